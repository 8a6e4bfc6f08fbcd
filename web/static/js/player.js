/* Guided practice. Each exercise or breathing step on the page carries its timing in data-*
   attributes and stays readable as text; this script adds a Start button that counts for the
   learner (squeeze, hold, relax; breathe in and out), then logs what she did. A log is first kept
   in localStorage and only then sent, so a failed network never loses it: it is sent again on
   the next page load, when the browser comes back online, and on a backing-off timer. The server
   recognises a repeat by its client_id and stores it once. A log is health data: while she has
   not agreed to Kern keeping it, nothing is sent; the player asks her (the question's text comes
   from the consent API) and the queue waits for her answer, however long. All texts come
   translated in the JSON block #player-config; nothing here is written in Dutch or English.
   On today's routine page ([data-routine]) one Start plays every step in turn, each after a
   count-in, and logs each one she leaves with something done, without asking for a note. */
(function () {
  "use strict";

  var QUEUE_KEY = "kern.practice.v1";
  var PREFS_KEY = "kern.player.prefs.v1";
  var TICK_MS = 250; // four ticks a second keep the count on time without busy work
  var CUE_SECONDS = 1; // the short "squeeze" signal before each hold
  var SWITCH_SECONDS = 5; // time to change position between the left and the right side
  var RETRY_FIRST_MS = 5000;
  var RETRY_MAX_MS = 5 * 60 * 1000;
  var MAX_NOTE = 500;
  var MAX_DURATION = 4 * 3600;
  var STEPS = '[data-kind="exercise"], [data-kind="breathing"]';
  // Higher tones for effort, lower ones for letting go: she can follow with her eyes closed.
  var TONES = { ready: 392, squeeze: 660, hold: 660, relax: 440, rest: 392, change: 392, inhale: 523, exhale: 392, done: 784 };
  var PULSES = { relax: [60, 80, 60], rest: [60, 80, 60, 80, 60], exhale: [60, 80, 60], done: [200, 100, 200] };

  var config;
  try {
    config = JSON.parse(document.getElementById("player-config").textContent);
  } catch (error) {
    return; // without its settings and texts the player cannot speak: the steps stay text
  }
  var texts = config.texts || {};
  var userId = config.userId === undefined ? null : config.userId;
  var reduceMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };
  var prefs = readJSON(PREFS_KEY, null) || { sound: false, vibrate: false };
  var active = null; // the one player that is running or paused
  var audio = null;
  var wakeLock = null;
  var storageWorks = true;
  var memoryQueue = []; // the queue when localStorage refuses (private mode, full)
  var sending = false;
  var retryTimer = null;
  var retryDelay = RETRY_FIRST_MS;
  var stepStatus = {}; // client_id -> the status line of the step the log came from
  var page = null; // the page's status box and announcer
  // Her consent to keeping health data: {url, page, needed}; absent for anonymous visitors.
  var consent = config.consent || null;
  var question = null; // the consent question while it is on screen

  /* ---- Small helpers ---- */

  function t(key, values) {
    return (texts[key] || "").replace(/%\((\w+)\)s/g, function (match, name) {
      return values && values[name] !== undefined ? String(values[name]) : match;
    });
  }

  // Dutch, English and Norwegian have one singular (n = 1) and one plural, so each countable
  // text comes as a pair of messages, "...One" and "...Other".
  function plural(key, count, values) {
    return t(key + (count === 1 ? "One" : "Other"), assign({ num: count }, values));
  }

  function assign(target) {
    for (var i = 1; i < arguments.length; i += 1) {
      for (var key in arguments[i] || {}) {
        target[key] = arguments[i][key];
      }
    }
    return target;
  }

  function make(tag, className, text, attributes) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    for (var name in attributes || {}) {
      node.setAttribute(name, attributes[name]);
    }
    return node;
  }

  function append(parent, children) {
    children.forEach(function (child) {
      if (child) {
        parent.appendChild(child);
      }
    });
    return parent;
  }

  function clock(seconds) {
    var whole = Math.max(0, Math.round(seconds));
    return Math.floor(whole / 60) + ":" + String(whole % 60 + 100).slice(1);
  }

  function readJSON(key, fallback) {
    try {
      return JSON.parse(window.localStorage.getItem(key)) || fallback;
    } catch (error) {
      return fallback;
    }
  }

  function writeJSON(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch (error) {
      return false;
    }
  }

  /* ---- The programme: a flat list of timed phases, built once from the data-* attributes ---- */

  function number(step, name) {
    var value = parseInt(step.getAttribute("data-" + name), 10);
    return value > 0 ? value : 0;
  }

  // Per side, per set, per rep: squeeze (1 s), hold, relax; rest between sets. `from` and `to`
  // are where the visual cue starts and ends (0 empty, 1 full); a rep counts once its hold is done.
  function exercisePlan(step) {
    var hold = number(step, "hold"), relax = number(step, "relax"), reps = number(step, "reps");
    var sets = number(step, "sets") || 1, rest = number(step, "rest"), side = step.getAttribute("data-side");
    var sides = side === "both" ? ["left", "right"] : side === "left" || side === "right" ? [side] : [null];
    var phases = [];
    if (!reps || !(hold || relax)) {
      return null;
    }
    sides.forEach(function (onSide, sideIndex) {
      if (sideIndex > 0) {
        phases.push({ name: "change", seconds: SWITCH_SECONDS, side: onSide, from: 0, to: 0 });
      }
      for (var set = 1; set <= sets; set += 1) {
        for (var rep = 1; rep <= reps; rep += 1) {
          var at = { side: onSide, set: set, sets: sets, rep: rep, reps: reps, from: 0, to: 0 };
          phases.push(assign({ name: "squeeze", seconds: CUE_SECONDS, countsRep: !hold }, at));
          if (hold) {
            phases.push(assign({}, at, { name: "hold", seconds: hold, to: 1, countsRep: true }));
          }
          if (relax) {
            phases.push(assign({}, at, { name: "relax", seconds: relax, from: hold ? 1 : 0 }));
          }
        }
        phases[phases.length - 1].endsSet = true;
        if (rest && set < sets) {
          phases.push({ name: "rest", seconds: rest, side: onSide, set: set + 1, sets: sets, from: 0, to: 0 });
        }
      }
    });
    return { kind: "exercise", phases: phases, totalReps: reps * sets * sides.length, totalSets: sets * sides.length };
  }

  // Per cycle: breathe in (the circle grows), an optional hold, breathe out (it shrinks).
  function breathingPlan(step) {
    var inhale = number(step, "inhale"), hold = number(step, "hold"), exhale = number(step, "exhale");
    var cycles = number(step, "cycles");
    var phases = [];
    if (!cycles || !(inhale || exhale)) {
      return null;
    }
    for (var cycle = 1; cycle <= cycles; cycle += 1) {
      var at = { cycle: cycle, cycles: cycles };
      [["inhale", inhale, 0, 1], ["hold", hold, 1, 1], ["exhale", exhale, 1, 0]].forEach(function (part) {
        if (part[1]) {
          phases.push(assign({ name: part[0], seconds: part[1], from: part[2], to: part[3] }, at));
        }
      });
      phases[phases.length - 1].countsRep = true;
    }
    return { kind: "breathing", phases: phases, totalReps: cycles, totalSets: 0 };
  }

  // Phase boundaries in milliseconds of active (unpaused) time, so the position follows from
  // one subtraction however late a throttled tab wakes up.
  function timeline(plan) {
    var at = 0;
    plan.phases.forEach(function (phase) {
      phase.start = at;
      at += phase.seconds * 1000;
      phase.end = at;
    });
    plan.total = at;
    return plan;
  }

  /* ---- Sound, vibration, screen lock: all optional, all silent when the browser refuses ---- */

  function ensureAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!prefs.sound || !Context) {
      return;
    }
    try {
      audio = audio || new Context(); // made during a click, so autoplay rules allow it
      if (audio.state === "suspended") {
        audio.resume();
      }
    } catch (error) {
      audio = null;
    }
  }

  function signal(name) {
    if (prefs.vibrate && navigator.vibrate) {
      navigator.vibrate(PULSES[name] || 120);
    }
    if (!prefs.sound || !audio) {
      return;
    }
    try {
      var start = audio.currentTime;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = TONES[name] || 523;
      // A soft attack and a long fade: a chime, not a beep.
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.45);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.5);
    } catch (error) {
      audio = null;
    }
  }

  function keepScreenOn() {
    if (!navigator.wakeLock || (wakeLock && !wakeLock.released)) {
      return; // no API, or a lock that still holds (the browser drops it when the page hides)
    }
    navigator.wakeLock.request("screen").then(function (lock) {
      if (active && active.running) {
        wakeLock = lock;
      } else {
        lock.release(); // paused or stopped while the request was on its way
      }
    }, function () {});
  }

  function letScreenSleep() {
    if (wakeLock) {
      wakeLock.release().catch(function () {});
      wakeLock = null;
    }
  }

  /* ---- The player ---- */

  function planOf(step) {
    return step.getAttribute("data-kind") === "exercise" ? exercisePlan(step) : breathingPlan(step);
  }

  function setup(step) {
    var plan = planOf(step);
    if (!plan) {
      return;
    }
    var heading = step.querySelector("h3");
    var title = heading ? heading.textContent.trim() : "";
    var start = make("button", "button button--large player__start", "", { type: "button" });
    // "Start Schouders los" for screen readers, in the course's language; "Start" on screen.
    append(start, [make("span", "", t("start")), make("span", "visually-hidden", title, heading && heading.lang ? { lang: heading.lang } : null)]);
    var status = make("p", "player__status is-empty", "", { role: "status", "aria-live": "polite", "data-player-status": "" });
    var slot = append(make("div", "player-slot"), [start, status]);
    step.appendChild(slot);
    var player = {
      plan: timeline(plan), slot: slot, startButton: start, status: status, title: title,
      stepId: parseInt(step.getAttribute("data-step-id"), 10) || null, picture: pictureOf(step)
    };
    start.addEventListener("click", function () {
      begin(player);
    });
  }

  function begin(player) {
    if (active) {
      stop(active);
    }
    ensureAudio();
    assign(player, { index: 0, activeBefore: 0, repsDone: 0, setsDone: 0, shown: {} });
    player.panel = buildPanel(player);
    if (player.startButton) { // a step's own player; in the routine there is none
      status(player.status, "");
      player.startButton.hidden = true;
    }
    player.slot.insertBefore(player.panel, player.status);
    active = player;
    run(player);
    enter(player);
    player.pauseButton.focus();
  }

  function buildPanel(player) {
    var kind = player.plan.kind;
    var parts = {
      position: make("p", "player__position"),
      side: make("p", "player__side"),
      word: make("p", "player__phase"),
      count: make("p", "player__count", "", { "aria-hidden": "true" }), // announced once per phase instead
      cue: make("span", "player__cue"),
      left: make("p", "player__left")
    };
    var track = append(make("span", kind === "exercise" ? "player__bar" : "player__circle", "", { "aria-hidden": "true" }), [parts.cue]);
    var pauseButton = make("button", "button button--large player__pause", t("pause"), { type: "button" });
    var stopButton = make("button", "button button--quiet player__stop", t("stop"), { type: "button" });
    pauseButton.addEventListener("click", function () {
      if (player.running) {
        pause(player);
      } else {
        run(player);
        enter(player);
      }
    });
    stopButton.addEventListener("click", function () {
      stop(player);
    });
    player.parts = parts;
    player.pauseButton = pauseButton;
    var panel = append(make("div", "player player--" + kind, "", { role: "group", "aria-label": t("panelLabel", { title: player.title }) }), [
      parts.position, parts.side, parts.word,
      append(make("div", "player__stage"), [track, parts.count]),
      parts.left,
      append(make("div", "player__controls"), [pauseButton, stopButton]),
      options()
    ]);
    if (player.picture) {
      panel.insertBefore(player.picture, panel.firstChild);
      playLoops(player.picture);
    }
    return panel;
  }

  /* ---- The picture of the position ---- */

  // A small copy for the panel; the step's own picture, with its description, stays in place.
  function pictureOf(step) {
    var original = step.querySelector("[data-step-picture] img, [data-step-picture] video");
    if (!original) {
      return null;
    }
    var copy = original.cloneNode(false);
    ["loading", "controls", "aria-label", "id"].forEach(function (name) {
      copy.removeAttribute(name);
    });
    if (copy.tagName === "IMG") {
      copy.alt = "";
    }
    return append(make("div", "player__picture", "", { "aria-hidden": "true" }), [copy]);
  }

  // A loop plays by itself unless she asked for less motion; then its controls are hers.
  function playLoops(root) {
    if (reduceMotion.matches) {
      return;
    }
    Array.prototype.forEach.call(root.querySelectorAll("video[data-loop]"), function (video) {
      if (root === document && video.closest("details:not([open])")) {
        return; // folded away (Vandaag): not worth loading until she opens it
      }
      video.muted = true;
      video.controls = false;
      var playing = video.play();
      if (playing && playing.catch) {
        playing.catch(function () {
          video.controls = root === document; // the browser refused: let her start it
        });
      }
    });
  }

  // Sound and vibration are off until she turns them on: a phone may be used discreetly.
  function options() {
    var box = make("div", "player__options");
    [["sound", window.AudioContext || window.webkitAudioContext], ["vibrate", navigator.vibrate]].forEach(function (choice) {
      if (!choice[1]) {
        return; // no switch for what this browser cannot do
      }
      var input = make("input", "", "", { type: "checkbox" });
      input.checked = !!prefs[choice[0]];
      input.addEventListener("change", function () {
        prefs[choice[0]] = input.checked;
        writeJSON(PREFS_KEY, prefs);
        ensureAudio();
      });
      append(box, [append(make("label", "player__option"), [input, document.createTextNode(" " + t(choice[0]))])]);
    });
    return box.childNodes.length ? box : null;
  }

  function elapsed(player) {
    return player.activeBefore + (player.running ? Date.now() - player.runningSince : 0);
  }

  function run(player) {
    player.running = true;
    player.runningSince = Date.now();
    player.timer = window.setInterval(function () {
      tick(player);
    }, TICK_MS);
    player.pauseButton.textContent = t("pause");
    player.panel.classList.remove("player--paused");
    keepScreenOn();
  }

  function halt(player) {
    player.activeBefore = elapsed(player);
    player.running = false;
    window.clearInterval(player.timer);
    letScreenSleep();
  }

  function pause(player) {
    halt(player);
    player.pauseButton.textContent = t("resume");
    player.panel.classList.add("player--paused");
    player.parts.word.textContent = t("paused"); // enter() puts the phase back on resume
    moveCue(player, player.activeBefore);
    say(t("paused"));
  }

  function tick(player) {
    var now = elapsed(player);
    var phases = player.plan.phases;
    var index = player.index;
    while (index < phases.length && now >= phases[index].end) {
      player.repsDone += phases[index].countsRep ? 1 : 0;
      player.setsDone += phases[index].endsSet ? 1 : 0;
      index += 1;
    }
    if (index >= phases.length) {
      finish(player, true);
    } else if (index !== player.index) {
      player.index = index;
      enter(player);
    } else {
      show(player, now);
    }
  }

  // A new phase (or a resume): the word, the position, one announcement, the cue and a signal.
  function enter(player) {
    var now = elapsed(player);
    var phase = player.plan.phases[player.index];
    var word = t("phase" + phase.name.charAt(0).toUpperCase() + phase.name.slice(1));
    var timed = phase.name === "rest" || phase.name === "change" || phase.name === "ready" ? "seconds" : "count";
    player.panel.setAttribute("data-phase", phase.name);
    player.parts.word.textContent = word;
    player.parts.position.textContent = where(phase);
    player.parts.side.textContent = phase.side ? t(phase.side === "left" ? "sideLeft" : "sideRight") : "";
    var seconds = Math.max(1, Math.ceil((phase.end - now) / 1000)); // less after a pause
    say(phase.name === "squeeze" ? word : plural(timed, seconds, { phase: word }));
    moveCue(player, now);
    signal(phase.name);
    show(player, now);
  }

  function where(phase) {
    if (phase.cycle) {
      return t("breath", phase);
    }
    if (phase.name === "rest" || phase.name === "change" || phase.name === "ready") {
      return phase.name === "rest" ? t("nextSet", phase) : "";
    }
    return t("rep", phase) + (phase.sets > 1 ? " · " + t("set", phase) : "");
  }

  // Every phase counts down to 1 (breathing too: "in 4, 3, 2, 1" like "hold 4, 3, 2, 1"), so she
  // reads one direction only; the squeeze cue shows no number.
  // Only what changed is written: screen readers and slow phones both prefer a quiet DOM.
  function show(player, now) {
    var phase = player.plan.phases[player.index];
    var count = "";
    if (phase.name !== "squeeze") {
      count = String(Math.max(1, Math.ceil((phase.end - now) / 1000)));
    }
    var left = t("timeLeft", { time: clock(Math.ceil((player.plan.total - now) / 1000)) });
    if (player.shown.count !== count) {
      player.parts.count.textContent = player.shown.count = count;
    }
    if (player.shown.left !== left) {
      player.parts.left.textContent = player.shown.left = left;
    }
  }

  function say(text) {
    page.announcer.textContent = text;
  }

  // The cue moves by a CSS transition as long as the phase, started from where it is now; a pause
  // freezes it in place. With reduced motion it does not move: CSS colours it by phase instead.
  function moveCue(player, now) {
    var cue = player.parts.cue;
    var phase = player.plan.phases[player.index];
    var shape = player.plan.kind === "exercise" ? function (value) {
      return "scaleX(" + value + ")";
    } : function (value) {
      return "scale(" + (0.5 + 0.5 * value) + ")";
    };
    if (reduceMotion.matches) {
      cue.style.transition = cue.style.transform = "";
      return;
    }
    var value = phase.from + (phase.to - phase.from) * Math.min(1, (now - phase.start) / (phase.end - phase.start));
    cue.style.transition = "none";
    cue.style.transform = shape(value);
    if (player.running && value !== phase.to) {
      void cue.offsetWidth; // commit the starting point, or the browser skips the transition
      cue.style.transition = "transform " + (phase.end - now) + "ms " + (player.plan.kind === "breathing" ? "ease-in-out" : "linear");
      cue.style.transform = shape(phase.to);
    }
  }

  function stop(player) {
    halt(player);
    active = null;
    if (player.routine) {
      leave(player, "stop");
    } else if (player.repsDone > 0) {
      finish(player, false);
    } else {
      tooShort(player);
    }
  }

  // Stopped before the first repetition or breath was done: there is nothing to log, and she is
  // told so instead of the player simply vanishing.
  function tooShort(player) {
    var heading = make("h4", "player__done-title", t("tooShort"), { tabindex: "-1" });
    var panel = append(make("div", "player player--done player--unsaved"), [
      heading,
      make("p", "player__why", t("tooShortHint")),
      closeButton(player)
    ]);
    player.panel.replaceWith(panel);
    player.panel = panel;
    heading.focus();
  }

  function close(player) {
    player.panel.remove();
    player.panel = null;
    player.startButton.hidden = false;
    player.startButton.focus();
  }

  /* ---- Done: what she did, how it felt, and saving it ---- */

  function finish(player, completed) {
    halt(player);
    active = null;
    if (completed) {
      // A tab woken late may overshoot the end; what she practised is the programme's length.
      player.activeBefore = Math.min(player.activeBefore, player.plan.total);
      signal("done");
    }
    if (player.routine) {
      leave(player, "done");
      return;
    }
    var record = {
      step_id: player.stepId,
      practised_at: new Date(Date.now()).toISOString(),
      duration_seconds: Math.min(MAX_DURATION, Math.round(player.activeBefore / 1000)),
      sets_done: player.plan.kind === "exercise" ? player.setsDone : 0,
      reps_done: player.repsDone
    };
    var heading = make("h4", "player__done-title", t(completed ? "done" : "stopped"), { tabindex: "-1" });
    var panel = append(make("div", "player player--done"), [heading].concat(summary(player)));
    if (userId === null) {
      append(panel, [append(make("p", "player__login", t("loginToSave") + " "), [loginLink()])]);
    }
    panel.appendChild(userId !== null && player.stepId ? logForm(player, record) : closeButton(player));
    player.panel.replaceWith(panel);
    player.panel = panel;
    heading.focus(); // "Done!" is read out, and the form follows
  }

  function summary(player) {
    var plan = player.plan;
    var lines = [];
    if (plan.kind === "breathing") {
      lines.push(t("summaryBreaths", { done: player.repsDone, total: plan.totalReps }));
    } else {
      if (plan.totalSets > 1) {
        lines.push(t("summarySets", { done: player.setsDone, total: plan.totalSets }));
      }
      lines.push(t("summaryReps", { done: player.repsDone, total: plan.totalReps }));
    }
    lines.push(t("summaryTime", { time: clock(player.activeBefore / 1000) }));
    return lines.map(function (line) {
      return make("p", "player__summary", line);
    });
  }

  function closeButton(player) {
    var button = make("button", "button", t("close"), { type: "button" });
    button.addEventListener("click", function () {
      close(player);
    });
    return button;
  }

  // Effort and note are both optional: saving with neither is one tap.
  function logForm(player, record) {
    var id = "player-" + player.stepId;
    var scale = make("div", "effort__scale");
    for (var value = 1; value <= 5; value += 1) {
      var radio = make("input", "", "", { type: "radio", name: id + "-effort", value: String(value) });
      append(scale, [append(make("label", "effort__option"), [radio, make("span", "", String(value))])]);
    }
    var effort = append(make("fieldset", "effort", "", { "aria-describedby": id + "-effort-hint" }), [
      make("legend", "", t("effortLegend")), make("p", "hint", t("effortHint"), { id: id + "-effort-hint" }), scale
    ]);
    var note = make("textarea", "player__note", "", { id: id + "-note", maxlength: String(MAX_NOTE), rows: "3", "aria-describedby": id + "-note-hint" });
    var save = make("button", "button", t("save"), { type: "submit" });
    var discard = make("button", "button button--quiet", t("discard"), { type: "button" });
    discard.addEventListener("click", function () {
      close(player);
    });
    var form = append(make("form", "player__form"), [
      effort, make("label", "", t("noteLabel"), { "for": id + "-note" }),
      make("p", "hint", t("noteHint"), { id: id + "-note-hint" }), note,
      append(make("div", "actions"), [save, discard])
    ]);
    form.addEventListener("submit", function (event) {
      var chosen = form.querySelector("input[type=radio]:checked");
      event.preventDefault();
      record.client_id = newId();
      record.effort = chosen ? parseInt(chosen.value, 10) : null;
      record.note = note.value.trim().slice(0, MAX_NOTE);
      stepStatus[record.client_id] = player.status;
      enqueue(record);
      close(player);
      if (consent && consent.needed) {
        askConsent(player.slot, player.status);
      } else {
        flush();
      }
    });
    return form;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID(); // only in secure contexts; the fallback covers plain http
    }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (byte) {
      return (byte + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  /* ---- The queue: written before every attempt, emptied only by the server's answer ---- */

  function readQueue() {
    var queue = storageWorks ? readJSON(QUEUE_KEY, []) : memoryQueue.slice();
    return Array.isArray(queue) ? queue.filter(function (item) {
      return item && item.body && item.body.client_id;
    }) : [];
  }

  function writeQueue(queue) {
    memoryQueue = queue.slice();
    storageWorks = storageWorks && writeJSON(QUEUE_KEY, queue);
  }

  function enqueue(body) {
    writeQueue(readQueue().concat([{ userId: userId, body: body, attempts: 0 }]));
  }

  function dequeue(clientId) {
    writeQueue(readQueue().filter(function (item) {
      return item.body.client_id !== clientId;
    }));
  }

  // The phone may be shared: only this person's logs are sent with this person's session.
  function mine() {
    return readQueue().filter(function (item) {
      return userId !== null && item.userId === userId;
    });
  }

  function flush() {
    var next = mine()[0];
    window.clearTimeout(retryTimer);
    showWaiting();
    if (sending || !next || !config.practiceUrl || (consent && consent.needed)) {
      return; // without her consent the queue waits; showWaiting() says so and offers the question
    }
    sending = true; // one request at a time, so an item is never in flight twice
    var id = next.body.client_id;
    writeQueue(readQueue().map(function (item) {
      item.attempts = (item.attempts || 0) + (item.body.client_id === id ? 1 : 0);
      return item;
    }));
    send(next.body).then(function (answer) {
      sending = false;
      report(id, answer);
      if (answer.kind === "saved" || answer.kind === "rejected") {
        dequeue(id);
        retryDelay = RETRY_FIRST_MS;
        flush();
      } else if (answer.kind === "later") {
        retryTimer = window.setTimeout(flush, retryDelay);
        retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
      } else if (answer.kind === "consent" && consent) {
        consent.needed = true; // withdrawn since the page was loaded: ask again, keep the log
        askConsent(null, stepStatus[id] || page.outcome);
      }
      // "login" and "expired" wait for the next page load: retrying now would be refused again.
      showWaiting();
    });
  }

  function send(body) {
    return fetch(config.practiceUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrfToken || "", "Accept": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (response) {
      var code = response.status;
      if (code === 200 || code === 201) {
        return { kind: "saved" };
      }
      if (code === 401) {
        return { kind: "login" };
      }
      if (code >= 500 || code === 408 || code === 429) {
        return { kind: "later" };
      }
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        var detail = typeof data.detail === "string" && data.detail ? data.detail : t("rejected");
        if (data.error === "consent_required") {
          return { kind: "consent" }; // not refused: it waits for her consent
        }
        // An expired CSRF token is the page's fault, not the log's: keep it for the next page.
        return { kind: data.error === "csrf" ? "expired" : "rejected", detail: detail };
      });
    }, function () {
      return { kind: "later" }; // offline, or the server did not answer
    });
  }

  // The answer goes to the step she saved from; a log from an earlier visit to the page's box.
  function report(clientId, answer) {
    var target = stepStatus[clientId] || page.outcome;
    var log = make("a", "", t("viewLog"), { href: config.logUrl || "/practice" });
    if (answer.kind === "saved") {
      status(target, t(stepStatus[clientId] ? "saved" : "savedEarlier") + " ", log, "ok");
    } else if (answer.kind === "later") {
      if (stepStatus[clientId]) {
        status(target, t("notSent"), null, "wait"); // the box above says how many are waiting
      }
    } else if (answer.kind === "login") {
      status(target, t("loggedOut") + " ", loginLink(), "wait");
    } else if (answer.kind === "consent") {
      // askConsent() speaks for itself
    } else {
      status(target, answer.detail, null, answer.kind === "expired" ? "wait" : "error");
    }
  }

  function loginLink() {
    return make("a", "", t("logIn"), { href: "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search) });
  }

  function status(node, text, link, tone) {
    node.textContent = text;
    append(node, [link]);
    node.classList.toggle("is-empty", !text);
    node.setAttribute("data-tone", text ? tone || "" : "");
  }

  function showWaiting() {
    var waiting = mine().length;
    if (waiting && consent && consent.needed) {
      // Her logs wait for her decision, not for the network; she can take the question up again.
      var decide = question ? null : make("button", "button button--small", t("consentDecide"), { type: "button" });
      if (decide) {
        decide.addEventListener("click", function () {
          askConsent(null, page.outcome);
        });
      }
      status(page.waiting, plural("consentWaiting", waiting) + " ", decide, "wait");
    } else {
      status(page.waiting, waiting ? plural("waiting", waiting) : "");
    }
    page.box.classList.toggle("is-empty", !page.outcome.textContent && !waiting);
  }

  // The page's status box and the phase announcer exist from the start, so screen readers know
  // them before they speak (a live region made together with its first words is often not heard).
  // The box sits above the first list of steps, or at the top of the page when there is none.
  function makePage() {
    var outcome = make("p", "practice-status__outcome is-empty");
    var waiting = make("p", "practice-status__waiting is-empty");
    var box = append(make("div", "practice-status is-empty", "", { role: "status", "aria-live": "polite", "data-practice-status": "" }), [outcome, waiting]);
    var announcer = make("p", "visually-hidden", "", { "aria-live": "polite", "data-player-announcer": "" });
    var list = document.querySelector(".steps");
    var main = document.querySelector("main") || document.body;
    if (list) {
      list.parentNode.insertBefore(box, list);
    } else {
      main.insertBefore(box, main.firstChild);
    }
    document.body.appendChild(announcer);
    return { box: box, outcome: outcome, waiting: waiting, announcer: announcer };
  }

  /* ---- Her consent to keeping health data: asked before the first log is sent ---- */

  // The question goes under the step she saved from (`slot`), or above the steps; `line` is the
  // status line that tells her what happened to her practice.
  function askConsent(slot, line) {
    if (question) {
      if (question.heading) {
        question.heading.focus(); // already asked (or on its way): bring her back to it
      }
      return;
    }
    question = { heading: null };
    fetch(consent.url, { headers: { "Accept": "application/json" }, credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : Promise.reject(response.status);
    }).then(function (data) {
      if (data.given) {
        question = null;
        agreed(line);
        return;
      }
      showQuestion(data.text, slot, line);
    }, function (code) {
      question = null;
      status(line, code === 401 ? t("loggedOut") + " " : t("consentOffline"), code === 401 ? loginLink() : null, "wait");
      showWaiting();
    });
  }

  function showQuestion(text, slot, line) {
    // Under a step (an h3) the question is part of it; above the steps it stands on its own.
    var heading = make(slot ? "h4" : "h2", "consent-ask__title", text.title, { id: "consent-ask-title", tabindex: "-1" });
    var points = make("dl", "consent-points");
    text.points.forEach(function (point) {
      append(points, [make("dt", "", point.label), make("dd", "", point.text)]);
    });
    var error = make("p", "field__error", "", { id: "consent-ask-error", hidden: "" });
    var box = make("input", "", "", { type: "checkbox", id: "consent-ask-agree", name: "agree" });
    var agree = append(make("label", "consent-check", "", { "for": "consent-ask-agree" }), [box, document.createTextNode(" " + text.agree)]);
    var later = make("button", "button button--quiet", t("consentLater"), { type: "button" });
    var form = append(make("form", "consent-ask__form", "", { novalidate: "" }), [
      error, agree, append(make("div", "actions"), [make("button", "button", t("consentSave"), { type: "submit" }), later])
    ]);
    var pageLink = consent.page + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    var section = append(make("section", "consent-ask", "", { "aria-labelledby": "consent-ask-title" }), [
      heading, make("p", "", text.intro), points, make("p", "", text.without), form,
      append(make("p", "consent-ask__page"), [make("a", "", t("consentPage"), { href: pageLink })])
    ]);
    question = { heading: heading, section: section };
    if (slot) {
      slot.appendChild(section);
    } else {
      page.box.parentNode.insertBefore(section, page.box.nextSibling);
    }
    showWaiting();
    heading.focus();
    later.addEventListener("click", function () {
      closeQuestion();
      status(line, t("consentDeclined"), null, "wait");
      showWaiting();
      // Focus goes where she can go on: the step's Start button, or the way back to the question.
      var next = (slot && slot.querySelector(".player__start")) || page.waiting.querySelector("button");
      if (next) {
        next.focus();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!box.checked) {
        // Only her own tick counts as consent; nothing is ticked for her.
        error.textContent = t("consentTick");
        error.hidden = false;
        box.setAttribute("aria-invalid", "true");
        box.setAttribute("aria-describedby", "consent-ask-error");
        box.focus();
        return;
      }
      give(text.version, error, line);
    });
  }

  function give(version, error, line) {
    fetch(consent.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrfToken || "", "Accept": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ version: version, agree: true })
    }).then(function (response) {
      if (response.ok) {
        closeQuestion();
        agreed(line);
        return null;
      }
      return response.json().catch(function () {
        return {};
      }).then(function (data) {
        if (data.error === "consent_text_changed") {
          closeQuestion(); // the text changed while the page was open: show the new one
          askConsent(null, line);
          return;
        }
        error.textContent = typeof data.detail === "string" && data.detail ? data.detail : t("consentFailed");
        error.hidden = false;
      });
    }, function () {
      error.textContent = t("consentFailed");
      error.hidden = false;
    });
  }

  function agreed(line) {
    consent.needed = false;
    status(line, t("consentThanks"), null, "ok");
    flush();
  }

  function closeQuestion() {
    if (question && question.section) {
      question.section.remove();
    }
    question = null;
  }

  /* ---- Today's routine: the page's exercises one after another, each after a count-in ---- */

  // Better outcomes are kept when she does an exercise twice (back, then again).
  var RANK = { skipped: 1, short: 2, partial: 3, done: 4 };

  function setupRoutine(box) {
    var items = [];
    Array.prototype.forEach.call(box.querySelectorAll(STEPS), function (step) {
      var heading = step.querySelector("h3");
      if (planOf(step)) {
        items.push({
          step: step, title: heading ? heading.textContent.trim() : "", lang: heading ? heading.lang : "",
          stepId: parseInt(step.getAttribute("data-step-id"), 10) || null, outcome: null
        });
      }
    });
    var start = box.querySelector("[data-routine-start]");
    if (!items.length || !start) {
      return;
    }
    var routine = {
      box: box, items: items, at: 0, kept: 0, player: null, native: false,
      ready: number(box, "ready"), back: box.getAttribute("data-back") || "/today"
    };
    buildStage(routine);
    start.hidden = false;
    start.addEventListener("click", function () {
      box.classList.add("routine--running");
      routine.stage.hidden = false;
      play(routine);
    });
    document.addEventListener("fullscreenchange", function () {
      if (routine.native && !fullScreenElement()) {
        routine.native = false; // she left full screen with the browser's own gesture
        fullScreen(routine, false);
      }
    });
  }

  // The stage and its status line exist from the start (hidden), so the line is a live region
  // before it first speaks; the stage becomes the summary at the end.
  function buildStage(routine) {
    var position = make("p", "routine-stage__position");
    // An icon like a video player's, so the row stays one line on a 320 px phone.
    var full = make("button", "button button--quiet routine-stage__full", "", { type: "button", "aria-pressed": "false", "aria-label": t("routineFull"), title: t("routineFull") });
    var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    var corners = document.createElementNS("http://www.w3.org/2000/svg", "path");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("aria-hidden", "true");
    corners.setAttribute("d", "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5");
    full.appendChild(icon).appendChild(corners);
    var title = make("h2", "routine-stage__title", "", { id: "routine-stage-title", tabindex: "-1" });
    var back = make("button", "button button--quiet routine-stage__back", t("routineBack"), { type: "button" });
    var skip = make("button", "button button--quiet routine-stage__skip", t("routineSkip"), { type: "button" });
    var line = make("p", "player__status is-empty", "", { role: "status", "aria-live": "polite", "data-player-status": "" });
    var slot = make("div", "routine-stage__player");
    full.addEventListener("click", function () {
      fullScreen(routine, full.getAttribute("aria-pressed") !== "true");
    });
    back.addEventListener("click", function () {
      move(routine, "back");
    });
    skip.addEventListener("click", function () {
      move(routine, "skip");
    });
    routine.stage = append(make("section", "routine-stage", "", { "aria-labelledby": "routine-stage-title", hidden: "" }), [
      append(make("div", "routine-stage__top"), [position, full]), title, slot,
      append(make("div", "routine-stage__nav"), [back, skip]), line
    ]);
    assign(routine, { position: position, full: full, title: title, slot: slot, backButton: back, line: line });
    routine.box.insertBefore(routine.stage, routine.box.querySelector(".steps"));
  }

  function play(routine) {
    var item = routine.items[routine.at];
    var plan = planOf(item.step);
    if (routine.ready) {
      plan.phases.unshift({ name: "ready", seconds: routine.ready, from: 0, to: 0 });
    }
    routine.position.textContent = t("routineOf", { num: routine.at + 1, total: routine.items.length });
    routine.title.textContent = item.title;
    routine.title.lang = item.lang;
    routine.backButton.disabled = routine.at === 0;
    routine.player = { plan: timeline(plan), slot: routine.slot, status: null, title: item.title, stepId: item.stepId, routine: routine, picture: pictureOf(item.step) };
    begin(routine.player);
  }

  // Skip or back, from a running or paused exercise.
  function move(routine, how) {
    var player = routine.player;
    if (player) {
      halt(player);
      active = null;
      leave(player, how);
    }
  }

  // She leaves an exercise: finished ("done"), or by skip, back or stop. Whatever she did of it
  // (a repetition or a breath at least) goes to her log; less is said to be not kept.
  function leave(player, how) {
    var routine = player.routine;
    var item = routine.items[routine.at];
    var practised = Math.max(0, Math.min(player.activeBefore, player.plan.total) - routine.ready * 1000);
    routine.player = null;
    player.panel.remove();
    if (player.repsDone > 0) {
      mark(item, how === "done" ? "done" : "partial", player);
      keep(routine, player, practised);
    } else if (practised > 0) {
      mark(item, "short", player);
      status(routine.line, item.title + " — " + t("tooShort"), null, "wait");
      routine.notice = true; // until the next log's answer or the summary, which lists it too
    } else if (how === "skip") {
      mark(item, "skipped", player);
    }
    routine.at = Math.max(0, routine.at + (how === "back" ? -1 : 1));
    if (how === "stop" || routine.at >= routine.items.length) {
      summarise(routine, how === "stop");
    } else {
      play(routine);
    }
  }

  function mark(item, outcome, player) {
    if (RANK[outcome] > (RANK[item.outcome] || 0)) {
      assign(item, { outcome: outcome, done: player.repsDone, total: player.plan.totalReps });
    }
  }

  // Into the queue at once, as the step's own player does after "Save"; while her consent is
  // not given it waits there, and the summary asks for it.
  function keep(routine, player, practised) {
    var record = {
      client_id: newId(),
      step_id: player.stepId,
      practised_at: new Date(Date.now()).toISOString(),
      duration_seconds: Math.min(MAX_DURATION, Math.round(practised / 1000)),
      sets_done: player.plan.kind === "exercise" ? player.setsDone : 0,
      reps_done: player.repsDone,
      effort: null,
      note: ""
    };
    routine.kept += 1;
    stepStatus[record.client_id] = routine.line;
    enqueue(record);
    flush();
  }

  function summarise(routine, stopped) {
    var all = routine.items.every(function (item) {
      return item.outcome === "done";
    });
    var list = make("ul", "routine-summary");
    routine.items.forEach(function (item) {
      append(list, [append(make("li", "routine-summary__item", "", { "data-outcome": item.outcome || "none" }), [
        make("span", "routine-summary__title", item.title, item.lang ? { lang: item.lang } : null),
        make("span", "routine-summary__outcome", outcomeText(item))
      ])]);
    });
    fullScreen(routine, false);
    if (routine.notice && routine.line.getAttribute("data-tone") === "wait") {
      status(routine.line, "");
    }
    routine.stage.classList.add("routine-stage--summary");
    routine.title.textContent = t(all ? "routineAllDone" : stopped ? "stopped" : "routineEnd");
    routine.title.removeAttribute("lang");
    append(routine.slot, [
      make("p", "routine-summary__kept", routine.kept ? plural("routineKept", routine.kept) : t("routineNothingKept")),
      list
    ]);
    // Under the status line, which says whether her practice has reached her log.
    append(routine.stage, [append(make("p", "actions"), [make("a", "button", t("routineBackToday"), { href: routine.back })])]);
    routine.title.focus();
    if (routine.kept && consent && consent.needed) {
      askConsent(routine.slot, routine.line);
    }
  }

  function outcomeText(item) {
    var keys = { done: "routineDone", short: "tooShort", skipped: "routineSkipped" };
    if (item.outcome === "partial") {
      return t("routinePartly", { done: item.done, total: item.total });
    }
    return t(keys[item.outcome] || "routineNotDone");
  }

  /* Full screen with the Fullscreen API where there is one; elsewhere (an iPhone) the stage
     covers the page with CSS, which looks the same apart from the browser's own bars. */
  function fullScreenElement() {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  }

  function fullScreen(routine, on) {
    var stage = routine.stage;
    var request = stage.requestFullscreen || stage.webkitRequestFullscreen;
    var exit = document.exitFullscreen || document.webkitExitFullscreen;
    stage.classList.toggle("routine-stage--full", on);
    routine.full.setAttribute("aria-pressed", String(on));
    try {
      var promise = null;
      if (on && request && !fullScreenElement()) {
        promise = request.call(stage);
        routine.native = true;
      } else if (!on && exit && fullScreenElement()) {
        routine.native = false;
        promise = exit.call(document);
      }
      if (promise && promise.then) {
        promise.then(null, function () {
          routine.native = false; // refused: the CSS version stays
        });
      }
    } catch (error) {
      routine.native = false;
    }
  }

  /* ---- Start-up ---- */

  page = makePage();
  var routineBox = document.querySelector("[data-routine]");
  if (routineBox) {
    setupRoutine(routineBox);
  } else {
    Array.prototype.forEach.call(document.querySelectorAll(STEPS), setup);
  }
  playLoops(document);

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && active && active.routine && active.routine.full.getAttribute("aria-pressed") === "true") {
      fullScreen(active.routine, false); // out of full screen first, as the browser's own Escape
    } else if (event.key === "Escape" && active) {
      stop(active);
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && active && active.running) {
      keepScreenOn(); // the browser releases the lock whenever the page is hidden
      tick(active);
    }
  });
  window.addEventListener("online", function () {
    retryDelay = RETRY_FIRST_MS;
    flush();
  });
  flush();
})();
