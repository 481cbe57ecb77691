import { ApiError, ApiUnreachable, callApi, describeFailure, type ServiceRecord, type Session } from "./api.ts";
import { h } from "./dom.ts";

/** The sign-in form: the token counts only once GET /api/v1/services accepts it. */
export function signInForm(
  onSignedIn: (token: string, services: ServiceRecord[], session: Session) => void,
  notice?: string,
): HTMLElement {
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    spellcheck: "false",
  });
  const message = h("p", { id: "signin-message", class: "message error", role: "alert" }, notice ?? "");
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "daeploy-edge"),
    h(
      "p",
      {},
      "Sign in with the gateway's admin token (ADMIN_TOKEN), or its read token (READ_TOKEN) to only look. " +
        "It is kept in this tab only.",
    ),
    h("label", { for: "token" }, "Admin token"),
    input,
    button,
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === "") {
      message.textContent = "Enter the admin token.";
      return;
    }
    button.disabled = true;
    message.textContent = "Checking…";
    try {
      const session = await callApi<Session>(token, "GET", "/session");
      const { services } = await callApi<{ services: ServiceRecord[] }>(token, "GET", "/services");
      onSignedIn(token, services, session);
    } catch (error) {
      message.textContent = signInFailure(error);
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function signInFailure(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) {
    return "The gateway refused this token (401). Use the value of its ADMIN_TOKEN (or READ_TOKEN) secret.";
  }
  if (error instanceof ApiUnreachable) return error.message;
  return `Sign-in failed: ${describeFailure(error)}`;
}
