/* Every page's script: it registers the service worker (/sw.js), which keeps the lessons she
   opened on this device so that they, and their exercises, also work without a connection. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  // After the page has loaded, so that installing never competes with what she came to see.
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  });
})();
