// Listen-in from a tile: /ws/listen/{call}: binary frames = leg byte + 16-bit PCM; agent left, debtor
// right (read-only: nothing can be sent into the call).
"use strict";
const WallListen = (() => {
  const { t } = AM;
  let ws = null, ctx = null, button = null, cursors = [0, 0], rate = 8000;
  function stop() { if (ws) ws.close(); ws = null; if (ctx) ctx.close(); ctx = null; if (button) button.textContent = t("listen"); button = null; }
  function play(buf) {
    const legIdx = new Uint8Array(buf, 0, 1)[0];
    const pcm = new Int16Array(buf.slice(1));
    if (!pcm.length) return;
    const audio = ctx.createBuffer(1, pcm.length, rate);
    const ch = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    const pan = ctx.createStereoPanner(); pan.pan.value = legIdx === 0 ? -0.6 : 0.6;
    src.buffer = audio; src.connect(pan).connect(ctx.destination);
    const at = Math.max(ctx.currentTime + 0.1, cursors[legIdx]);
    src.start(at); cursors[legIdx] = at + audio.duration;
    document.body.dataset.listenFrames = String(Number(document.body.dataset.listenFrames || 0) + 1);
  }
  function toggle(callId, btn) {
    if (ws) { const same = button === btn; stop(); if (same) return; }
    button = btn; btn.textContent = t("stop_listen");
    // created in the click (a user gesture) so the browser lets it play; buffers carry their own rate
    ctx = new AudioContext(); cursors = [0, 0];
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/listen/" + encodeURIComponent(callId));
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => {
      if (typeof m.data === "string") {
        const msg = JSON.parse(m.data);
        if (msg.type === "audio") rate = msg.sample_rate;
        return;
      }
      if (ctx) play(m.data);
    };
    ws.onclose = () => { if (button === btn) stop(); };
  }
  return { toggle };
})();
