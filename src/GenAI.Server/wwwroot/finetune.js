// Fine-tuning: upload training data (/v1/files), start a job with hyperparameters (/v1/fine_tuning/jobs), follow
// its event stream (train and validation loss into the chart, status, cancel); when it succeeds the new model is
// loaded into the picker. With "publish checkpoints" each checkpoint becomes a revision of the new model while it trains.
import { request, events, isAbort } from "./api.js";
import { drawLossChart } from "./chart.js";
import { onModels, refreshModels, showStatus } from "./ui.js";

const $ = id => document.getElementById(id);
let watcher = null; // AbortController of the event stream being followed
let watchedJob = null;

async function refreshFiles(select) {
  let files;
  try {
    files = (await request("v1/files?purpose=fine-tune")).data;
  } catch (e) {
    showStatus(`Files: ${e.message}`, "error");
    return;
  }
  const option = (value, text) => Object.assign(document.createElement("option"), { value, textContent: text });
  const label = f => `${f.filename} · ${f.id} · ${f.bytes} bytes`;
  const training = $("job-training-file"), validation = $("job-validation-file");
  const keepTraining = select ?? training.value, keepValidation = validation.value;
  training.replaceChildren(...files.map(f => option(f.id, label(f))));
  validation.replaceChildren(option("", "none"), ...files.map(f => option(f.id, label(f))));
  if (files.some(f => f.id === keepTraining)) training.value = keepTraining;
  if (files.some(f => f.id === keepValidation)) validation.value = keepValidation;
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("purpose", "fine-tune");
  form.append("file", file, file.name);
  $("upload-button").disabled = true;
  try {
    const stored = await request("v1/files", { method: "POST", body: form });
    // The list first: when the message says the file is uploaded, it is already the selected training file.
    await refreshFiles(stored.id);
    $("upload-result").textContent = `Uploaded ${stored.filename} as ${stored.id} (${stored.bytes} bytes).`;
  } catch (e) {
    $("upload-result").textContent = `Upload failed: ${e.message}`;
    showStatus(`Upload failed: ${e.message}`, "error");
  } finally {
    $("upload-button").disabled = false;
  }
}

function optionalNumber(id) {
  const value = $(id).value.trim();
  return value === "" ? undefined : Number(value);
}

async function createJob(event) {
  event.preventDefault();
  const hyperparameters = {};
  const epochs = optionalNumber("job-epochs"), batch = optionalNumber("job-batch"), lr = optionalNumber("job-lr");
  if (epochs !== undefined) hyperparameters.n_epochs = epochs;
  if (batch !== undefined) hyperparameters.batch_size = batch;
  if (lr !== undefined) hyperparameters.learning_rate_multiplier = lr;
  const body = {
    model: $("job-model").value,
    training_file: $("job-training-file").value,
    method: { type: "supervised", supervised: { hyperparameters } },
  };
  if ($("job-validation-file").value) body.validation_file = $("job-validation-file").value;
  if ($("job-suffix").value.trim()) body.suffix = $("job-suffix").value.trim();
  const maxSteps = optionalNumber("job-max-steps"), seed = optionalNumber("job-seed");
  if (maxSteps !== undefined) body.max_steps = maxSteps;
  if (seed !== undefined) body.seed = seed;
  if ($("job-publish").checked) body.publish_checkpoints = true;
  $("job-create").disabled = true;
  try {
    const job = await request("v1/fine_tuning/jobs", { method: "POST", body });
    showStatus(`Started ${job.id}.`);
    await refreshJobs();
    watch(job.id);
  } catch (e) {
    showStatus(`Fine-tuning: ${e.message}`, "error");
  } finally {
    $("job-create").disabled = false;
  }
}

async function refreshJobs() {
  let jobs;
  try {
    jobs = (await request("v1/fine_tuning/jobs?limit=20")).data;
  } catch (e) {
    showStatus(`Jobs: ${e.message}`, "error");
    return;
  }
  $("jobs").tBodies[0].replaceChildren(...jobs.map(job => {
    const row = document.createElement("tr");
    row.dataset.job = job.id;
    for (const text of [job.id, job.model, job.status, job.fine_tuned_model ?? "—"]) row.insertCell().textContent = text;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Show";
    button.setAttribute("aria-label", `Show ${job.id}`);
    button.addEventListener("click", () => watch(job.id));
    row.insertCell().append(button);
    return row;
  }));
}

function showJob(job) {
  $("job-title").textContent = job.fine_tuned_model ? `${job.id} → ${job.fine_tuned_model}` : job.id;
  const status = $("job-status");
  status.textContent = job.status;
  status.dataset.status = job.status;
  $("job-cancel").disabled = ["succeeded", "failed", "cancelled"].includes(job.status);
  if (job.error) $("job-progress").textContent = job.error.message;
}

/** Follows one job: its events (oldest first, live until it finishes) into the chart and the event list. */
async function watch(jobId) {
  watcher?.abort();
  const controller = new AbortController();
  watcher = controller;
  watchedJob = jobId;
  $("job-detail").hidden = false;
  $("job-events").replaceChildren();
  $("job-progress").textContent = "";
  $("loss-last").textContent = "";
  const train = new Map(), valid = new Map();
  let total = null;
  const draw = () => drawLossChart($("loss-chart"), [...train].map(([step, loss]) => ({ step, loss })),
    [...valid].map(([step, loss]) => ({ step, loss })), total);
  draw();
  try {
    showJob(await request(`v1/fine_tuning/jobs/${encodeURIComponent(jobId)}`, { signal: controller.signal }));
    $("job-detail").scrollIntoView({ block: "nearest" });
    for await (const e of events(`v1/fine_tuning/jobs/${encodeURIComponent(jobId)}/events?stream=true`, { signal: controller.signal })) {
      const item = document.createElement("li");
      item.textContent = `${new Date(e.created_at * 1000).toLocaleTimeString()} ${e.message}`;
      item.dataset.level = e.level;
      $("job-events").prepend(item);
      if (e.type === "metrics" && e.data) {
        const d = e.data;
        total = d.total_steps ?? total;
        // An evaluation's event carries the train loss over evaluation batches; a step's, the loss of its batch: the
        // batch losses make the train line, with the evaluation's value where a step has no batch event (step 0).
        if (d.valid_loss !== undefined) {
          valid.set(d.step, d.valid_loss);
          if (!train.has(d.step)) train.set(d.step, d.train_loss);
        } else {
          train.set(d.step, d.train_loss);
        }
        $("job-progress").textContent = `step ${d.step}/${d.total_steps}` + (d.tokens_per_second ? ` · ${d.tokens_per_second} tokens/s` : "");
        $("loss-last").textContent = `train ${d.train_loss}` + (d.valid_loss !== undefined ? ` · validation ${d.valid_loss}` : "");
        draw();
      } else {
        showJob(await request(`v1/fine_tuning/jobs/${encodeURIComponent(jobId)}`, { signal: controller.signal }));
      }
    }
    const job = await request(`v1/fine_tuning/jobs/${encodeURIComponent(jobId)}`, { signal: controller.signal });
    showJob(job);
    await refreshJobs();
    if (job.status === "succeeded") await waitForModel(job, controller.signal);
  } catch (e) {
    if (!isAbort(e)) showStatus(`Job ${jobId}: ${e.message}`, "error");
  } finally {
    if (watcher === controller) watcher = null;
  }
}

/** The server loads a new model when its watcher sees it (every few seconds): list the models until it is served. */
async function waitForModel(job, signal) {
  showStatus(`${job.id} succeeded: loading ${job.fine_tuned_model}…`);
  const deadline = Date.now() + 120_000;
  while (!signal.aborted && Date.now() < deadline) {
    const cards = await refreshModels();
    if (cards.some(c => c.id === job.fine_tuned_model && c.status === "ready")) {
      showStatus(`${job.id} succeeded: ${job.fine_tuned_model} is in the model picker.`);
      return;
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
  if (!signal.aborted) showStatus(`${job.fine_tuned_model} is not served yet: see the Server tab.`, "error");
}

async function cancel() {
  if (!watchedJob) return;
  try {
    showJob(await request(`v1/fine_tuning/jobs/${encodeURIComponent(watchedJob)}/cancel`, { method: "POST" }));
    await refreshJobs();
  } catch (e) {
    showStatus(`Cancel: ${e.message}`, "error");
  }
}

export function initFineTuning() {
  $("upload-form").addEventListener("submit", upload);
  $("job-form").addEventListener("submit", createJob);
  $("job-cancel").addEventListener("click", cancel);
  onModels(cards => {
    const select = $("job-model");
    const keep = select.value;
    select.replaceChildren(...cards.filter(c => c.status === "ready").map(c =>
      Object.assign(document.createElement("option"), { value: c.id, textContent: `${c.id} · ${c.revision}` })));
    if ([...select.options].some(o => o.value === keep)) select.value = keep;
  });
}

/** When the section is shown: the files and jobs as they are now. */
export function showFineTuning() {
  refreshFiles();
  refreshJobs();
}
