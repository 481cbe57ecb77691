/**
 * Imported before anything else (uPlot among it): uPlot builds `Intl.NumberFormat(navigator.language)`
 * when its module loads, and some browsers report a language tag Intl refuses (Chromium under LANG=C
 * says `en-US@posix`), which would leave the page blank. Such a tag is replaced by the closest one Intl
 * takes (`en-US`), or by `en-US` when nothing of it is usable.
 */
function usableLanguage(tag: string): string {
  const candidates = [tag, tag.split(/[@.]/)[0] ?? "", tag.split(/[-_@.]/)[0] ?? ""];
  for (const candidate of candidates) {
    try {
      return new Intl.NumberFormat(candidate.replaceAll("_", "-")).resolvedOptions().locale;
    } catch {
      // Not a tag Intl knows; try a shorter one.
    }
  }
  return "en-US";
}

const reported = navigator.language;
const usable = usableLanguage(reported);
if (usable !== reported) {
  Object.defineProperty(navigator, "language", { value: usable, configurable: true });
}
