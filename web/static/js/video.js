/* Click-to-load video. Until the learner presses play, the page holds only a drawn placeholder:
   no request goes to YouTube or Vimeo. The play control is a link to the player, so without
   JavaScript it opens in a new tab; with it, the player replaces the placeholder in place. */
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
})();
