/* Kern's service worker, served at /sw.js with SHELL, OFFLINE_URL, ICON and VERSION written
   above this text (web/app_shell.py). It keeps:
   - the shell: versioned styles, scripts and icons (their address changes with their content,
     so a kept copy is always right: cache first);
   - Vandaag, today's routine and the lessons she opened, as she last saw them, for when there is no connection
     (network first). Only pages shown to a signed-in person are kept; video, the API and every
     other page go to the network as usual;
   - the offline page twice: nobody's (asked for without cookies when installed, with a
     visitor's menu) and hers, with her menu and tab bar, among her pages.
   The pages are hers alone. The server names who a page was made for in the Kern-Viewer header
   (an opaque tag, "-" for nobody); when that changes (she logs out, her session ends, someone
   else signs in) every kept page is dropped before anything new is kept. Logging out drops
   them too. Practice logged offline waits in the player's own queue (player.js), not here.
   It also shows push notifications ({"title", "body", "url"}) and opens their page. */
"use strict";

var STATIC_CACHE = "kern-static";
var SHELL_CACHE = "kern-shell-" + VERSION;
var PAGE_CACHE = "kern-pages";
var VIEWER_KEY = "/__kern-viewer";
var OFFLINE_KEY = "/__kern-offline"; // her copy of the offline page, in PAGE_CACHE
var STATIC_LIMIT = 60; // older versions of the files are dropped beyond this many
var KEPT_PAGES = [/^\/today(\/routine)?$/, /^\/courses\/[^/]+\/lessons\/[^/]+$/];

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([
    caches.open(STATIC_CACHE).then(function (cache) {
      return cache.addAll(SHELL);
    }),
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.add(new Request(OFFLINE_URL, { credentials: "omit" }));
    })
  ]).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("kern-shell-") === 0 && name !== SHELL_CACHE;
    }).map(function (name) {
      return caches.delete(name);
    }).concat(caches.open(PAGE_CACHE).then(function (cache) {
      return cache.delete(OFFLINE_KEY); // made by the version before: asked for anew
    })));
  }).then(function () {
    return self.clients.claim();
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    if (url.pathname === "/logout") {
      event.waitUntil(forgetPages());
    }
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(event, url));
  } else if (url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v")) {
    event.respondWith(staticFile(event, request));
  }
});

function page(event, url) {
  return fetch(event.request).then(function (response) {
    var viewer = response.headers.get("Kern-Viewer");
    if (viewer !== null) {
      var copy = keeps(url, response, viewer) ? response.clone() : null;
      event.waitUntil(seen(viewer).then(function () {
        return Promise.all([copy && caches.open(PAGE_CACHE).then(function (cache) {
          return cache.put(url.pathname, copy);
        }), viewer !== "-" && keepOfflinePage(viewer)]);
      }));
    }
    return response;
  }, function () {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (kept) {
        return kept || cache.match(OFFLINE_KEY);
      });
    }).then(function (kept) {
      return kept || caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE });
    }).then(function (shown) {
      return shown || Response.error();
    });
  });
}

function keeps(url, response, viewer) {
  var type = response.headers.get("Content-Type") || "";
  return viewer !== "-" && response.status === 200 && type.indexOf("text/html") === 0 &&
    KEPT_PAGES.some(function (pattern) {
      return pattern.test(url.pathname);
    });
}

// Whoever the server last made a page for; a different person (or nobody) starts afresh.
function seen(viewer) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.match(VIEWER_KEY).then(function (kept) {
      return kept ? kept.text() : null;
    }).then(function (before) {
      if (before === viewer) {
        return null;
      }
      return caches.delete(PAGE_CACHE).then(function () {
        return caches.open(PAGE_CACHE);
      }).then(function (fresh) {
        return fresh.put(VIEWER_KEY, new Response(viewer));
      });
    });
  });
}

// Her offline page, asked for once per person and version; kept only if it was made for her
// (she may have logged out, and someone else in, while it was on its way).
function keepOfflinePage(viewer) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.match(OFFLINE_KEY).then(function (kept) {
      return kept || fetch(OFFLINE_URL).then(function (response) {
        return response.ok && response.headers.get("Kern-Viewer") === viewer ?
          cache.put(OFFLINE_KEY, response) : null;
      });
    });
  });
}

function forgetPages() {
  return caches.delete(PAGE_CACHE);
}

function staticFile(event, request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      return kept || fetch(request).then(function (response) {
        if (response.status === 200) {
          event.waitUntil(cache.put(request, response.clone()).then(function () {
            return trim(cache);
          }));
        }
        return response;
      });
    });
  });
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - STATIC_LIMIT)).map(function (key) {
      return cache.delete(key);
    }));
  });
}

/* ---- Push notifications (sent by the server's worker; the payload is JSON) ---- */

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  var title = typeof data.title === "string" && data.title ? data.title : "Kern";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.body === "string" ? data.body : "",
    icon: ICON,
    data: { url: ownAddress(data.url) }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = ownAddress(event.notification.data && event.notification.data.url);
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    var open = windows.filter(function (client) {
      return client.url === target && "focus" in client;
    })[0];
    return open ? open.focus() : self.clients.openWindow(target);
  }));
});

// Only an address on this site is opened; anything else becomes Vandaag.
function ownAddress(value) {
  var url;
  try {
    url = new URL(typeof value === "string" ? value : "/today", self.location.origin);
  } catch (error) {
    url = null;
  }
  return url && url.origin === self.location.origin ? url.href : new URL("/today", self.location.origin).href;
}
