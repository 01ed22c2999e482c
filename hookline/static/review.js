// The review page: a player tied to the line table, inline saves with versions, conflicts
// shown side by side, per-line undo and history, the waveform, and the keyboard.
// Text from the server is only ever set with textContent or value: never as HTML.
"use strict";

(() => {
  const root = document.querySelector("[data-review]");
  if (!root) return;
  const locId = root.dataset.localizationId;
  const editable = root.dataset.editable === "true";
  const video = root.querySelector("[data-player]");
  const rows = [...root.querySelectorAll("tr.line")];
  const saveState = root.querySelector("[data-save-state]");
  const follow = root.querySelector("[data-follow]");
  const clock = root.querySelector("[data-clock]");
  let current = null;

  const token = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const fmt = (s) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;

  async function call(method, url, body) {
    const answer = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await answer.json().catch(() => ({ message: `The server answered ${answer.status}.` }));
    return { ok: answer.ok, status: answer.status, data };
  }

  // -- player and lines ------------------------------------------------------------------

  function seek(row, play) {
    if (!video) return;
    video.currentTime = Number(row.dataset.start) + 0.001;
    select(row, false);
    if (play) video.play().catch(() => {});
  }

  function select(row, scroll) {
    if (current === row) return;
    if (current) current.classList.remove("current");
    current = row;
    row.classList.add("current");
    if (scroll && follow && follow.checked && !row.contains(document.activeElement)) {
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function lineAt(t) {
    let found = null;
    for (const row of rows) {
      if (Number(row.dataset.start) <= t) found = row;
      else break;
    }
    return found;
  }

  if (video) {
    const wanted = Number(new URLSearchParams(location.search).get("t"));
    if (wanted > 0) video.addEventListener("loadedmetadata", () => (video.currentTime = wanted), { once: true });
    video.addEventListener("timeupdate", () => {
      if (clock) clock.textContent = fmt(video.currentTime);
      const row = lineAt(video.currentTime);
      if (row) select(row, true);
      drawWave();
    });
  }

  for (const row of rows) {
    row.querySelector(".seek").addEventListener("click", () => seek(row, true));
    row.addEventListener("click", (event) => {
      if (event.target.closest("input, textarea, button")) return;
      seek(row, false);
    });
    row.addEventListener("focusin", () => select(row, false));
    for (const field of row.querySelectorAll("input, textarea")) {
      field.dataset.saved = field.value;
      if (!editable) continue;
      field.addEventListener("change", () => save(row));
      field.addEventListener("input", () => mark(row, dirty(row) ? "unsaved" : ""));
    }
    if (!editable) continue;
    const undo = row.querySelector("[data-undo]");
    if (undo) undo.addEventListener("click", () => undoLine(row));
    const again = row.querySelector("[data-retranslate]");
    if (again) again.addEventListener("click", () => retranslate(row));
  }
  for (const row of rows) {
    const history = row.querySelector("[data-history]");
    if (history) history.addEventListener("click", () => showHistory(row));
  }

  // A link to one line (#line-N, from the analytics drop-offs) opens with that line chosen.
  const linked = rows.find((row) => `#${row.id}` === location.hash);
  if (linked) {
    select(linked, false);
    linked.scrollIntoView({ block: "center" });
  }

  // Switching audio, language or subtitles keeps the playback position.
  const audioSwitch = root.querySelector("[data-audio-switch]");
  if (audioSwitch && video) {
    audioSwitch.addEventListener("change", () => {
      const t = video.currentTime;
      const playing = !video.paused;
      video.src = audioSwitch.value === "original" ? video.dataset.originalSrc : video.dataset.dubSrc;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = t;
        if (playing) video.play().catch(() => {});
      }, { once: true });
      loadWave(audioSwitch.value);
    });
  }
  const languageSwitch = root.querySelector("[data-language-switch]");
  if (languageSwitch) {
    languageSwitch.addEventListener("change", () => {
      const t = video ? video.currentTime.toFixed(2) : 0;
      location.assign(`${languageSwitch.value}?t=${t}`);
    });
  }
  const trackSwitch = root.querySelector("[data-track-switch]");
  function showTrack(language) {
    if (!video) return;
    for (const track of video.textTracks) track.mode = track.language === language ? "showing" : "disabled";
  }
  if (trackSwitch) {
    trackSwitch.addEventListener("change", () => showTrack(trackSwitch.value));
    showTrack(trackSwitch.value);
  }

  function reloadTracks() {
    if (!video) return;
    for (const el of video.querySelectorAll("track")) {
      const fresh = el.cloneNode();
      fresh.src = `${el.src.split("?")[0]}?v=${Date.now()}`;
      el.replaceWith(fresh);
    }
    if (trackSwitch) setTimeout(() => showTrack(trackSwitch.value), 0);
  }

  // -- saving -----------------------------------------------------------------------------

  function values(row) {
    const get = (name) => row.querySelector(`[name="${name}"]`).value;
    return { text: get("text"), speaker: get("speaker"), start_s: Number(get("start_s")), end_s: Number(get("end_s")) };
  }

  function dirty(row) {
    return [...row.querySelectorAll("input, textarea")].some((f) => f.value !== f.dataset.saved);
  }

  function mark(row, state, message) {
    row.dataset.state = state;
    const note = row.querySelector("[data-line-state]");
    const text = { unsaved: "unsaved", saving: "saving…", saved: "saved", error: message || "not saved", conflict: "conflict" }[state] || "";
    note.textContent = state === "error" ? message : text;
    note.className = `line-state ${state}`;
    if (saveState) saveState.textContent = state ? `Line ${Number(row.dataset.position) + 1}: ${note.textContent}` : "";
  }

  // Show a saved line; a field typed into while the save was on its way keeps the new text.
  function apply(row, line, sent) {
    row.dataset.version = line.version;
    row.dataset.start = line.start_s;
    row.dataset.end = line.end_s;
    const set = (name, value) => {
      const field = row.querySelector(`[name="${name}"]`);
      const typedSince = sent && String(sent[name]) !== field.value && field.value !== String(value);
      if (!typedSince || name.endsWith("_s")) field.value = value;
      field.dataset.saved = value;
    };
    set("text", line.text);
    set("speaker", line.speaker || "");
    set("start_s", Number(line.start_s).toFixed(3));
    set("end_s", Number(line.end_s).toFixed(3));
    showQc(row, line);
    row.classList.add("stale");
  }

  function showQc(row, line) {
    const cell = row.querySelector("[data-qc]");
    cell.replaceChildren();
    if (line.note) {
      const small = document.createElement("small");
      small.className = "warn";
      small.textContent = line.note;
      cell.append(small);
    }
    for (const v of line.qc) {
      const div = document.createElement("div");
      const small = document.createElement("small");
      small.className = v.severity === "error" ? "error" : "warn";
      small.textContent = v.message;
      div.append(small);
      cell.append(div);
    }
    row.classList.toggle("flagged", Boolean(line.needs_human || line.qc.length));
    const duration = line.end_s - line.start_s;
    const chars = line.text.replace(/\n/g, " ").length;
    row.querySelector("[data-cps]").textContent = chars && duration > 0 ? (chars / duration).toFixed(1) : "—";
    const longest = Math.max(0, ...line.cues.flatMap((c) => c.lines.map((l) => l.length)));
    row.querySelector("[data-cpl]").textContent = String(longest);
  }

  // QC is recomputed for the whole track on each save: a line's timing moves its neighbours.
  async function refreshQc() {
    const answer = await call("GET", `/api/v1/localizations/${locId}/lines`);
    if (!answer.ok) return;
    const byId = new Map(answer.data.map((line) => [String(line.id), line]));
    for (const row of rows) {
      const line = byId.get(row.dataset.lineId);
      if (line) showQc(row, line);
    }
    const summary = await call("GET", `/api/v1/localizations/${locId}`);
    const box = document.querySelector("[data-qc-summary]");
    if (summary.ok && box) box.textContent = `${summary.data.qc.errors || 0} errors, ${summary.data.qc.warnings || 0} warnings.`;
    const stale = document.querySelector("[data-stale-count]");
    const count = root.querySelectorAll("tr.line.stale").length;
    if (stale) stale.textContent = count ? `${count} line(s) changed since the cut was rendered.` : "The cut matches the lines.";
  }

  async function save(row, force) {
    if (!dirty(row) && !force) return true;
    // One save at a time per line; a conflict waits for the reviewer's choice.
    if (!force && ["saving", "conflict"].includes(row.dataset.state)) return false;
    const body = { version: Number(row.dataset.version), ...values(row) };
    mark(row, "saving");
    const answer = await call("PATCH", `/api/v1/lines/${row.dataset.lineId}`, body);
    if (answer.ok) {
      apply(row, answer.data, body);
      mark(row, "saved");
      reloadTracks();
      refreshQc();
      return true;
    }
    if (answer.status === 409 && answer.data.detail && answer.data.detail.current) {
      mark(row, "conflict");
      conflict(row, answer.data, body);
    } else {
      mark(row, "error", answer.data.message);
    }
    return false;
  }

  function conflict(row, error, mine) {
    const box = root.querySelector("[data-conflict]");
    const theirs = error.detail.current;
    box.querySelector("[data-conflict-message]").textContent = error.message;
    const show = (v) => `${fmt(v.start_s)}–${fmt(v.end_s)}  ${v.speaker || ""}\n${v.text}`;
    box.querySelector("[data-conflict-theirs]").textContent = show(theirs);
    box.querySelector("[data-conflict-yours]").textContent = show(mine);
    box.hidden = false;
    box.querySelector("[data-keep-mine]").onclick = async () => {
      box.hidden = true;
      row.dataset.version = theirs.version;
      await save(row, true);
    };
    box.querySelector("[data-take-theirs]").onclick = () => {
      box.hidden = true;
      apply(row, { ...theirs, qc: [], cues: [], note: "" });
      mark(row, "saved");
      refreshQc();
    };
  }

  async function undoLine(row) {
    mark(row, "saving");
    const answer = await call("POST", `/api/v1/lines/${row.dataset.lineId}/undo`, { version: Number(row.dataset.version) });
    if (answer.ok) {
      apply(row, answer.data);
      mark(row, "saved");
      reloadTracks();
      refreshQc();
    } else if (answer.status === 409 && answer.data.detail && answer.data.detail.current) {
      mark(row, "conflict");
      conflict(row, answer.data, { ...values(row), version: Number(row.dataset.version) });
    } else {
      mark(row, "error", answer.data.message);
    }
  }

  async function retranslate(row) {
    mark(row, "saving");
    const answer = await call("POST", `/api/v1/lines/${row.dataset.lineId}/retranslate`, { version: Number(row.dataset.version) });
    if (answer.ok) {
      apply(row, answer.data);
      mark(row, "saved");
      reloadTracks();
      refreshQc();
    } else {
      mark(row, "error", answer.data.message);
    }
  }

  async function showHistory(row) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains("history-row")) {
      next.remove();
      return;
    }
    const answer = await call("GET", `/api/v1/lines/${row.dataset.lineId}/history`);
    const tr = document.createElement("tr");
    tr.className = "history-row";
    const td = document.createElement("td");
    td.colSpan = 10;
    const list = document.createElement("ol");
    const events = answer.ok ? answer.data : [];
    for (const e of events) {
      const li = document.createElement("li");
      const changes = Object.keys(e.after)
        .filter((k) => !["version", "position", "localization_id", "undoes"].includes(k))
        .map((k) => `${k}: ${JSON.stringify(e.before[k] ?? null)} → ${JSON.stringify(e.after[k])}`);
      li.textContent = `${new Date(e.at).toLocaleString()} · ${e.actor} · ${e.action === "line.undo" ? "undo" : "edit"} · ${changes.join("; ")}`;
      list.append(li);
    }
    if (!events.length) list.textContent = answer.ok ? "No edits yet: the pipeline's version." : answer.data.message;
    td.append(list);
    tr.append(td);
    row.after(tr);
  }

  // -- waveform ---------------------------------------------------------------------------

  const canvas = root.querySelector("[data-waveform]");
  let wave = null;

  async function loadWave(audio) {
    if (!canvas) return;
    const answer = await call("GET", `/localizations/${locId}/waveform.json?audio=${audio || "dub"}`);
    wave = answer.ok ? answer.data : null;
    drawWave();
  }

  function drawWave() {
    if (!canvas || !wave) return;
    const width = (canvas.width = canvas.clientWidth || 360);
    const height = canvas.height;
    const ctx = canvas.getContext("2d");
    const duration = wave.duration_s || (video && video.duration) || 1;
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = "rgba(80, 120, 200, 0.15)";
    for (const row of rows) {
      const x0 = (Number(row.dataset.start) / duration) * width;
      const x1 = (Number(row.dataset.end) / duration) * width;
      ctx.fillStyle = row === current ? "rgba(230, 150, 40, 0.3)" : "rgba(80, 120, 200, 0.15)";
      ctx.fillRect(x0, 0, Math.max(1, x1 - x0), height);
      ctx.fillStyle = "rgba(40, 60, 120, 0.7)";
      ctx.fillRect(x0, 0, 1, height);
    }
    ctx.fillStyle = "#334";
    const peaks = wave.peaks;
    for (let i = 0; i < peaks.length; i++) {
      const x = (i / peaks.length) * width;
      const h = Math.max(1, peaks[i] * (height - 4));
      ctx.fillRect(x, (height - h) / 2, Math.max(1, width / peaks.length), h);
    }
    if (video) {
      ctx.fillStyle = "#d33";
      ctx.fillRect((video.currentTime / duration) * width, 0, 2, height);
    }
  }

  if (canvas) {
    canvas.addEventListener("click", (event) => {
      if (!video || !wave) return;
      const box = canvas.getBoundingClientRect();
      const duration = wave.duration_s || video.duration || 0;
      video.currentTime = ((event.clientX - box.left) / box.width) * duration;
    });
    window.addEventListener("resize", drawWave);
    loadWave("dub");
  }

  // -- re-dub -----------------------------------------------------------------------------

  const redubForm = document.querySelector("[data-redub-form]");
  if (redubForm) {
    redubForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const row of rows) if (dirty(row)) await save(row);
      const answer = await call("POST", `/api/v1/localizations/${locId}/redub`);
      const panel = document.querySelector("[data-redub]");
      if (!answer.ok) {
        const p = document.createElement("p");
        p.className = "flash error";
        p.textContent = answer.data.message;
        panel.append(p);
        return;
      }
      redubForm.querySelector("button").disabled = true;
      const bar = document.createElement("div");
      bar.className = "progress";
      bar.dataset.jobId = answer.data.id;
      bar.dataset.status = answer.data.status;
      const track = document.createElement("div");
      track.className = "bar";
      track.append(document.createElement("span"));
      const text = document.createElement("small");
      text.className = "progress-text";
      text.textContent = "queued";
      bar.append(track, text);
      panel.prepend(bar);
      pollJobs(); // app.js: reloads the page (and so the new cut) when the job ends
    });
  }

  // -- keyboard ---------------------------------------------------------------------------

  const keys = document.querySelector("[data-keys]");
  const showKeys = () => keys && !keys.open && keys.showModal();
  const helpButton = document.querySelector("[data-show-keys]");
  if (helpButton) helpButton.addEventListener("click", showKeys);

  function move(step) {
    const index = current ? rows.indexOf(current) : -1;
    const row = rows[Math.min(rows.length - 1, Math.max(0, index + step))];
    if (!row) return;
    seek(row, false);
    const field = row.querySelector("textarea");
    if (field) field.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function toggle() {
    if (!video) return;
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  }

  document.addEventListener("keydown", (event) => {
    const inField = event.target.closest && event.target.closest("input, textarea, select");
    if (event.ctrlKey && event.code === "Space") return event.preventDefault(), toggle();
    if (event.code === "Space" && !inField && event.target.tagName !== "BUTTON") return event.preventDefault(), toggle();
    if (event.altKey && event.key === "ArrowDown") return event.preventDefault(), move(1);
    if (event.altKey && event.key === "ArrowUp") return event.preventDefault(), move(-1);
    if (event.altKey && event.code === "KeyR" && current) return event.preventDefault(), seek(current, true);
    if (event.ctrlKey && event.code === "KeyS") {
      event.preventDefault();
      if (current && editable) save(current);
      return;
    }
    if (event.ctrlKey && event.key === "Enter" && current && editable) {
      event.preventDefault();
      save(current).then((ok) => ok && move(1));
      return;
    }
    if (event.altKey && event.code === "KeyZ" && current && editable) return event.preventDefault(), undoLine(current);
    if (event.altKey && event.code === "KeyA") {
      const form = document.querySelector(".approve-form");
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (event.key === "?" && !inField) return event.preventDefault(), showKeys();
  });

  window.addEventListener("beforeunload", (event) => {
    if (rows.some((row) => dirty(row))) event.preventDefault();
  });
})();
