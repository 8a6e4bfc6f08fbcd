/* A lesson's adaptive video (HLS): the worker made renditions of the upload, from small to
   sharp, and the player picks the one the connection and screen can take.
   Safari and iOS (and most Android browsers) play the master playlist themselves. Elsewhere
   (Chrome, Firefox on a computer) hls.js does it, loaded from Kern only then. Until a
   rendition is chosen nothing is fetched: the video waits with its poster until she presses
   play. Without JavaScript, or if the stream fails, the uploaded original plays (the <source>).
   js/video.js keeps her position as with any uploaded video. */
(function () {
  "use strict";

  function loadScript(src, done) {
    var script = document.createElement("script");
    script.src = src;
    script.onload = done;
    document.head.appendChild(script);
  }

  function original(video, hls) {
    // The stream failed: go back to the uploaded file, where she was.
    var at = video.currentTime;
    hls.destroy();
    video.removeAttribute("src");
    video.load();
    if (at > 0) {
      video.addEventListener("loadedmetadata", function () { video.currentTime = at; }, { once: true });
    }
  }

  function withHlsJs(video, master) {
    var Hls = window.Hls;
    if (!Hls || !Hls.isSupported()) {
      return; // no Media Source Extensions: the original plays
    }
    var resume = parseInt(video.getAttribute("data-resume"), 10) || 0;
    var hls = new Hls({
      enableWorker: false, // the page's policy allows no scripts from blob: addresses
      autoStartLoad: false, // fetch segments only once she presses play
      startPosition: resume > 0 ? resume : -1
    });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (data.fatal) {
        original(video, hls);
      }
    });
    hls.on(Hls.Events.LEVEL_LOADED, function (_event, data) {
      video.setAttribute("data-hls-level", String(data.level));
    });
    hls.loadSource(master);
    hls.attachMedia(video);
    video.addEventListener("play", function () { hls.startLoad(); }, { once: true });
  }

  function start(video) {
    var master = video.getAttribute("data-hls");
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.addEventListener("error", function () {
        // The browser could not play the stream after all: the original (the <source>) plays.
        if (video.getAttribute("src") === master) {
          video.removeAttribute("src");
          video.load();
        }
      });
      video.src = master;
      return;
    }
    if (!window.MediaSource && !window.ManagedMediaSource) {
      return;
    }
    if (window.Hls) {
      withHlsJs(video, master);
    } else {
      loadScript(video.getAttribute("data-hls-js"), function () { withHlsJs(video, master); });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("video[data-hls]"), start);
})();
