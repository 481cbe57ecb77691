// The admin token lives in this tab's sessionStorage only: gone when the tab closes, never in a URL.
const KEY = "daeploy-edge.token";

export const readToken = (): string | null => sessionStorage.getItem(KEY);
export const saveToken = (token: string): void => sessionStorage.setItem(KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(KEY);
