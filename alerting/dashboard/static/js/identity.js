// Who is acknowledging: a name or initials typed once and remembered by this browser.

const STORAGE_KEY = 'crsmon.acknowledgingAs';

export function rememberIdentity(input) {
  input.value = localStorage.getItem(STORAGE_KEY) || '';
  input.addEventListener('input', () => {
    localStorage.setItem(STORAGE_KEY, input.value.trim());
  });
  return () => input.value.trim();
}
