/* Push notifications on this device (the mail choices page). Subscribes this browser with
   Kern's public key through the service worker at /sw.js and tells Kern the subscription, or
   turns it off again. Whether this device is on is Kern's word, not only the browser's: a device
   removed from the list, or one the push service dropped, shows as off until turned on again.
   A browser that cannot do this keeps the sentence the page was served with, and a note why. */
(function () {
  "use strict";

  var box = document.querySelector("[data-push]");
  if (!box) {
    return;
  }
  var status = box.querySelector("[data-push-status]");
  var onButton = box.querySelector("[data-push-on]");
  var offButton = box.querySelector("[data-push-off]");
  var api = box.getAttribute("data-api");
  var registration = null;
  var deviceId = null;

  function say(name) {
    status.textContent = box.getAttribute("data-text-" + name) || "";
  }

  function show(on) {
    onButton.hidden = on;
    offButton.hidden = !on;
    onButton.disabled = offButton.disabled = false;
    say(on ? "on" : "off");
  }

  function fail(name) {
    onButton.disabled = offButton.disabled = false;
    say(name || "failed");
  }

  // The VAPID key arrives as unpadded base64url; pushManager wants its bytes.
  function keyBytes(text) {
    var base64 = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function call(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": box.getAttribute("data-csrf") || ""
      },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.status === 204 ? null : response.json();
    });
  }

  // Which of her devices Kern knows as this browser: by the push address.
  function known(subscription) {
    if (!subscription) {
      return Promise.resolve(null);
    }
    return call("GET", api).then(function (data) {
      var found = data.devices.filter(function (device) {
        return device.endpoint === subscription.endpoint;
      })[0];
      return found ? found.id : null;
    });
  }

  function turnOn() {
    onButton.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        fail("denied");
        return null;
      }
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.getAttribute("data-key"))
        });
      }).then(function (subscription) {
        var data = subscription.toJSON ? subscription.toJSON() : subscription;
        return call("POST", api, data);
      }).then(function (device) {
        deviceId = device.id;
        window.location.reload(); // the list of devices below now has this one
      });
    }).catch(function () {
      fail();
    });
  }

  function turnOff() {
    offButton.disabled = true;
    var forget = deviceId === null ? Promise.resolve() : call("DELETE", api + "/" + deviceId);
    forget.then(function () {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      return subscription ? subscription.unsubscribe() : true;
    }).then(function () {
      window.location.reload();
    }).catch(function () {
      fail();
    });
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    return;
  }
  if (Notification.permission === "denied") {
    say("denied");
    return;
  }
  navigator.serviceWorker.register("/sw.js").then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (ready) {
    registration = ready;
    return ready.pushManager.getSubscription();
  }).then(known).then(function (id) {
    deviceId = id;
    show(id !== null);
  }).catch(function () {
    say("unsupported");
  });

  onButton.addEventListener("click", turnOn);
  offButton.addEventListener("click", turnOff);
}());
