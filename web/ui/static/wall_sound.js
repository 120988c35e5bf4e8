// Hand-off beeps: browsers play sound only after the page was interacted with, so until then a
// visible notice says sound is off (a click anywhere, or on it, turns it on).
"use strict";
const WallSound = (() => {
  const { t, el } = AM;
  const note = el("button", { class: "sound-note", id: "sound-note", type: "button" }, t("sound_off"));
  // the beep's AudioContext (common.js) is unlocked by the first click; a key press counts too
  function update(on) { note.hidden = on; document.body.dataset.sound = on ? "on" : "off"; }
  // after the click, not on pointerdown: the page must not move under a click in progress
  ["click", "keydown"].forEach((kind) => document.addEventListener(kind, () => setTimeout(() => update(true), 0), { once: true }));
  update(false);
  return { note, beep: () => AM.beep() };
})();
