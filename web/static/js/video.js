/* Lesson videos. YouTube and Vimeo: click-to-load. Until the learner presses play, the page holds
   only a drawn placeholder: no request goes to YouTube or Vimeo. The play control is a link to the
   player, so without JavaScript it opens in a new tab; with it, the player replaces the
   placeholder in place.
   Uploaded (`file`) videos of a signed-in learner: start where she left off, and remember how far
   she got while she watches, so the next visit (on any device) resumes there. */
(function () {
  "use strict";

  function play(link) {
    var frame = link.closest("[data-video]");
    if (!frame) {
      return false;
    }
    var iframe = document.createElement("iframe");
    iframe.className = "video__iframe";
    iframe.src = link.href;
    iframe.title = frame.getAttribute("data-title") || "";
    iframe.setAttribute("allow", "autoplay; encrypted-media; fullscreen; picture-in-picture");
    iframe.setAttribute("allowfullscreen", "");
    // The site sends no referrer to other origins; YouTube refuses to play without one, so the
    // player (chosen by the learner) gets the site's origin, never the page's path.
    iframe.referrerPolicy = "strict-origin-when-cross-origin";
    frame.textContent = "";
    frame.appendChild(iframe);
    frame.classList.add("video__frame--playing");
    iframe.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return; // a new tab on purpose: let the link do it
    }
    var target = event.target instanceof Element ? event.target : null;
    var link = target && target.closest("a[data-video-play]");
    if (link && play(link)) {
      event.preventDefault();
    }
  });

  /* ---- Resume an uploaded video where she left off ---- */

  var SAVE_EVERY_SECONDS = 15; // of playback; a lost save costs her at most this much
  var NEAR_END_SECONDS = 5; // a video watched to (almost) the end starts again from the start

  function track(video) {
    var url = video.getAttribute("data-position-url");
    var csrf = video.getAttribute("data-csrf") || "";
    var resume = parseInt(video.getAttribute("data-resume"), 10) || 0;
    var lastSaved = resume;
    var played = 0;
    var previous = null;

    function save(seconds) {
      seconds = Math.max(0, Math.floor(seconds));
      if (seconds === lastSaved) {
        return;
      }
      lastSaved = seconds;
      try {
        // keepalive lets the last save go out while the page is being left.
        fetch(url, {
          method: "PUT",
          keepalive: true,
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ seconds: seconds })
        }).catch(function () {}); // a lost save is not worth bothering her with
      } catch (error) {
        // an old browser without fetch: the video still plays, only the position is not kept
      }
    }

    function here() {
      var atEnd = video.duration && video.currentTime >= video.duration - NEAR_END_SECONDS;
      return atEnd ? 0 : video.currentTime;
    }

    function seekToSaved() {
      if (resume > 0 && (!video.duration || resume < video.duration - NEAR_END_SECONDS)) {
        video.currentTime = resume;
      }
    }

    if (video.readyState >= 1) {
      seekToSaved();
    } else {
      video.addEventListener("loadedmetadata", seekToSaved, { once: true });
    }
    video.addEventListener("timeupdate", function () {
      var now = video.currentTime;
      // Count only time played forward, not a jump she made with the slider.
      if (previous !== null && !video.paused && now > previous && now - previous < 2) {
        played += now - previous;
      }
      previous = now;
      if (played >= SAVE_EVERY_SECONDS) {
        played = 0;
        save(here());
      }
    });
    video.addEventListener("pause", function () {
      save(here());
    });
    video.addEventListener("ended", function () {
      save(0);
    });
    window.addEventListener("pagehide", function () {
      if (video.currentTime > 0) {
        save(here());
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("video[data-position-url]"), track);
})();
