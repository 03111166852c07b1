// The sign-in page: posts the token (typed, or from a /dashboard link) and goes on to the dashboard.
const form = document.getElementById('login-form');
const input = document.getElementById('token');
const error = document.getElementById('login-error');
const button = document.getElementById('sign-in');
const params = new window.URLSearchParams(window.location.search);
const next = params.get('next') || '/';

async function signIn(token) {
  error.textContent = '';
  button.disabled = true;
  button.textContent = 'Signing in…';
  try {
    const res = await fetch('/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, next }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `Sign-in failed (${res.status}).`);
    window.location.replace(body.next || '/');
  } catch (err) {
    error.textContent = err.message;
    button.disabled = false;
    button.textContent = 'Sign in';
    input.focus();
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = input.value.trim();
  if (!token) {
    error.textContent = 'Paste the admin token or open the link the bot sent you.';
    input.focus();
    return;
  }
  void signIn(token);
});

// A /dashboard link carries the token: drop it from the address bar and history, then sign in with it.
const linkToken = params.get('token');
if (linkToken) {
  params.delete('token');
  const rest = params.toString();
  window.history.replaceState(null, '', `/login${rest ? `?${rest}` : ''}`);
  input.value = linkToken;
  void signIn(linkToken);
} else {
  input.focus();
}
