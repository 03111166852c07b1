// Applies the saved theme before the page paints (no flash); "system" follows prefers-color-scheme.
(function () {
  try {
    var t = window.localStorage.getItem('townhall-theme');
    if (t === 'dark' || t === 'light') document.documentElement.dataset.theme = t;
  } catch {
    // storage blocked: follow the system theme
  }
})();
