// login-page.ts — what a browser that is not logged in gets instead of the app: a page asking
// for an API key. Its script is a separate file (the CSP allows no inline script); it posts the
// key to /auth/login, which answers with an HttpOnly session cookie, and reloads. A key in the
// URL fragment (#key=…, which never reaches the server or its logs) logs in at once.
export const LOGIN_PATH = '/auth/login';
export const LOGOUT_PATH = '/auth/logout';
export const LOGIN_SCRIPT_PATH = '/auth/login.js';

export const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Karakoram — log in</title>
<style>
body{font:15px system-ui,sans-serif;background:#111418;color:#e6e6e6;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#1b1f24;padding:28px 32px;border-radius:10px;width:min(420px,90vw)}
h1{font-size:20px;margin:0 0 6px} p{color:#9aa4ae;margin:0 0 16px}
input{width:100%;box-sizing:border-box;padding:9px 10px;border-radius:6px;border:1px solid #39414a;background:#0d1013;color:inherit}
button{margin-top:12px;padding:8px 16px;border-radius:6px;border:0;background:#3a7afe;color:#fff;cursor:pointer}
#error{color:#ff7b72;min-height:1.2em;margin-top:10px}
</style></head>
<body><main data-testid="login">
<h1>▲ Karakoram</h1>
<p>This server needs an API key. Ask the person who runs it for one.</p>
<label for="key">API key</label>
<input id="key" data-testid="login-key" type="password" autocomplete="off" spellcheck="false" placeholder="kk-…">
<button id="go" data-testid="login-button" type="button">Log in</button>
<div id="error" data-testid="login-error" role="alert"></div>
</main><script src="${LOGIN_SCRIPT_PATH}"></script></body></html>
`;

export const LOGIN_SCRIPT = `(() => {
  const input = document.getElementById('key');
  const err = document.getElementById('error');
  async function login(key) {
    err.textContent = '';
    try {
      const r = await fetch('${LOGIN_PATH}', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }), credentials: 'same-origin' });
      if (r.ok) { location.replace(location.pathname + location.search); return; }
      const body = await r.json().catch(() => null);
      err.textContent = (body && body.error && body.error.message) || ('login failed (' + r.status + ')');
    } catch (e) { err.textContent = 'could not reach the server: ' + e.message; }
  }
  document.getElementById('go').addEventListener('click', () => login(input.value.trim()));
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') login(input.value.trim()); });
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) { history.replaceState(null, '', location.pathname + location.search); login(decodeURIComponent(m[1])); }
})();
`;
