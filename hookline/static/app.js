// Hookline's small amount of page behaviour: live job progress, upload progress,
// auto-submitting filters. No inline scripts: the Content-Security-Policy forbids them.
"use strict";

const LIVE = ["queued", "running"];

function pollJobs() {
  const bars = [...document.querySelectorAll(".progress[data-job-id]")]
    .filter((el) => LIVE.includes(el.dataset.status));
  if (!bars.length) return;
  const ids = bars.map((el) => el.dataset.jobId).join(",");
  fetch(`/api/v1/jobs?ids=${ids}&limit=500`, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then((page) => {
      let finished = false;
      for (const job of page.jobs) {
        for (const el of document.querySelectorAll(`.progress[data-job-id="${job.id}"]`)) {
          el.querySelector(".bar span").style.setProperty("--pct", `${job.progress.toFixed(0)}%`);
          const text = `${job.progress.toFixed(0)}%${job.progress_message ? " · " + job.progress_message : ""}`;
          el.querySelector(".progress-text").textContent = text;
          if (!LIVE.includes(job.status)) finished = true;
          el.dataset.status = job.status;
        }
      }
      if (finished) window.location.reload();
      else setTimeout(pollJobs, 1500);
    })
    .catch(() => setTimeout(pollJobs, 5000));
}

function uploadWithProgress(form) {
  form.addEventListener("submit", (event) => {
    const file = form.querySelector("input[type=file]");
    if (!file || !file.files.length) return; // let the server say what is missing
    event.preventDefault();
    const box = form.querySelector(".upload-progress");
    const bar = box.querySelector(".bar span");
    const text = box.querySelector(".progress-text");
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const pct = (100 * e.loaded) / e.total;
      bar.style.setProperty("--pct", `${pct.toFixed(0)}%`);
      text.textContent = pct < 100 ? `Uploading… ${pct.toFixed(0)}%` : "Checking the file…";
    });
    xhr.addEventListener("load", () => {
      // Show the server's answer in place: the form with its error, or the page the upload
      // was redirected to. Loading that page again would lose its flashed messages.
      const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      if (xhr.status < 400 && xhr.responseURL && xhr.responseURL !== window.location.href) {
        window.history.replaceState(null, "", xhr.responseURL);
        document.title = doc.title;
      }
      document.querySelector("main").replaceWith(doc.querySelector("main"));
      init();
    });
    xhr.addEventListener("error", () => {
      text.textContent = "The upload was interrupted. Check the connection and try again.";
      form.querySelector("button[type=submit]").disabled = false;
    });
    xhr.send(new FormData(form));
  });
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// The publishing calendar: drag a scheduled post onto another day to move it there,
// keeping its local time. The server checks it (a post that started cannot move).
function calendarDragAndDrop(calendar) {
  if (calendar.dataset.canMove !== "true") return;
  const status = document.querySelector(".calendar-status");
  let dragged = null;
  calendar.addEventListener("dragstart", (event) => {
    dragged = event.target.closest(".post[draggable=true]");
    if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.publicationId);
  });
  for (const day of calendar.querySelectorAll(".day")) {
    day.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      day.classList.add("drop-target");
    });
    day.addEventListener("dragleave", () => day.classList.remove("drop-target"));
    day.addEventListener("drop", async (event) => {
      event.preventDefault();
      day.classList.remove("drop-target");
      if (!dragged) return;
      const id = dragged.dataset.publicationId;
      dragged = null;
      const answer = await fetch(`/api/v1/publications/${id}/reschedule`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: JSON.stringify({ local_date: day.dataset.day }),
      });
      if (answer.ok) {
        window.location.reload();
      } else {
        const body = await answer.json().catch(() => ({}));
        status.textContent = body.message || `Could not move it (${answer.status}).`;
      }
    });
  }
}

function init() {
  for (const form of document.querySelectorAll("form[data-upload-progress]")) uploadWithProgress(form);
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const calendar of document.querySelectorAll("[data-calendar]")) calendarDragAndDrop(calendar);
  pollJobs();
}

document.addEventListener("DOMContentLoaded", init);
