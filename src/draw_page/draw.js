// The drawing page of `python -m src.draw`. The server does the math (the same code as
// `python -m src.predict`); this file draws strokes, sends the drawing as a PNG, and paints
// the answer: probabilities, the 28x28 image the model saw, and its evidence maps.
"use strict";

const DEBOUNCE_MS = 120;            // after the last change, before the drawing is sent
// White ink on a transparent canvas (shown on black, as MNIST's digits are): the PNG's alpha
// channel says where the drawing is, and the pipeline reads light ink on a dark ground.
const INK = "#ffffff";

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d");
const widthInput = document.getElementById("width");
const statusLine = document.getElementById("status");
const prediction = document.getElementById("prediction");
const confidence = document.getElementById("confidence");
const bars = document.getElementById("bars");
const evidence = document.getElementById("evidence");
const seen = document.getElementById("seen");

let strokes = [];       // each {width, points: [[x, y], ...]} in canvas pixels
let current = null;     // the stroke being drawn
let timer = null;       // the pending debounced prediction
let inFlight = false;   // a request is on its way
let again = false;      // the drawing changed while it was
let sent = 0;           // requests sent, so that only the answer to the latest one is shown
let prompt = "draw a digit";
let classNames = [];

// --- drawing --------------------------------------------------------------------------------------

function paintStroke(stroke) {
  pen.lineWidth = stroke.width;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = INK;
  pen.fillStyle = INK;
  const [x0, y0] = stroke.points[0];
  if (stroke.points.length === 1) {   // a dot
    pen.beginPath();
    pen.arc(x0, y0, stroke.width / 2, 0, 2 * Math.PI);
    pen.fill();
    return;
  }
  pen.beginPath();
  pen.moveTo(x0, y0);
  for (const [x, y] of stroke.points.slice(1)) pen.lineTo(x, y);
  pen.stroke();
}

function repaint() {
  pen.clearRect(0, 0, canvas.width, canvas.height);
  strokes.forEach(paintStroke);
}

function position(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.pointerType === "mouse" && event.button !== 0) return;
  event.preventDefault();
  canvas.setPointerCapture(event.pointerId);
  current = {width: Number(widthInput.value), points: [position(event)]};
  strokes.push(current);
  repaint();
  changed();
});

canvas.addEventListener("pointermove", (event) => {
  if (current === null) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of (events.length ? events : [event])) current.points.push(position(e));
  repaint();
  changed();
});

function endStroke() {
  if (current === null) return;
  current = null;
  changed();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

widthInput.addEventListener("input", () => {
  document.getElementById("width-value").textContent = widthInput.value;
});

document.getElementById("undo").addEventListener("click", () => {
  strokes.pop();
  repaint();
  changed();
});

document.getElementById("clear").addEventListener("click", () => {
  strokes = [];
  repaint();
  changed();
});

document.getElementById("example").addEventListener("click", showExample);

// --- asking the server ------------------------------------------------------------------------------

function setBusy() {
  document.body.dataset.busy = (timer !== null || inFlight) ? "1" : "0";
}

function changed() {
  clearTimeout(timer);
  timer = null;
  if (strokes.length === 0) {   // nothing to ask: no guess, at once (and no late answer shown)
    sent++;
    again = false;
    showNothing(prompt);
  } else {
    timer = setTimeout(() => { timer = null; predict(); }, DEBOUNCE_MS);
  }
  setBusy();
}

async function answerOf(response) {
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON: said below */ }
  if (!response.ok) throw new Error(body && body.error ? body.error : `the server answered ${response.status}`);
  return body;
}

function predict() {
  if (inFlight) { again = true; setBusy(); return; }
  if (strokes.length === 0) { showNothing(prompt); setBusy(); return; }
  inFlight = true;
  const number = ++sent;
  setBusy();
  canvas.toBlob(async (png) => {
    try {
      // The bytes, not the Blob: a request body anyone watching the page's traffic can read.
      const body = await png.arrayBuffer();
      const response = await fetch("/api/predict", {method: "POST", headers: {"Content-Type": "image/png"}, body});
      const answer = await answerOf(response);
      if (number === sent && strokes.length) show(answer, "");
    } catch (err) {
      if (number === sent) showNothing(err.message, true);
    } finally {
      inFlight = false;
      if (again) { again = false; predict(); }
      setBusy();
    }
  }, "image/png");
}

async function showExample() {
  const number = ++sent;  // an answer to an earlier drawing must not replace it
  try {
    const answer = await answerOf(await fetch("/api/example"));
    if (number !== sent) return;
    const where = answer.held_out ? "held-out test image" : "test image";
    const verdict = answer.prediction === answer.label ? "right" : "wrong";
    show(answer, `${where} #${answer.test_index}: true class ${answer.label} (${verdict})`);
  } catch (err) {
    if (number === sent) showNothing(err.message, true);
  }
}

async function loadModel() {
  try {
    const model = await answerOf(await fetch("/api/model"));
    classNames = model.class_names;
    prompt = model.dataset === "mnist" ? "draw a digit" : "draw one of the classes";
    document.getElementById("model").textContent =
      `${model.kind} regression on ${model.title}: ${model.class_names.join(", ")}`;
    if (model.dataset !== "mnist") document.querySelector("h1").textContent = "Draw " + model.title;
    if (model.kind === "binary") {
      const [negative, positive] = model.class_names;
      document.getElementById("legend").textContent = `blue: for ${negative}, white: 0, red: for ${positive}. ` +
        `The score z is the sum of the evidence map w \u00b7 x over the 784 pixels, plus the bias; ` +
        `sigmoid(z) is the probability of ${positive}, so z > 0 means ${positive}.`;
    }
    if (strokes.length === 0) showNothing(prompt);
  } catch (err) {
    showNothing(err.message, true);
  }
}

// --- painting the answer ------------------------------------------------------------------------------

function showNothing(message, isError = false) {
  statusLine.textContent = message;
  statusLine.classList.toggle("error", isError);
  prediction.textContent = "";
  confidence.textContent = "";
  paintBars(classNames, null, -1);
  evidence.replaceChildren();
  seen.getContext("2d").clearRect(0, 0, 28, 28);
}

function show(answer, message) {
  const top = answer.class_names.indexOf(answer.prediction);
  statusLine.textContent = message;
  statusLine.classList.remove("error");
  prediction.textContent = answer.prediction;
  confidence.textContent = `${(100 * answer.probabilities[top]).toFixed(1)}%`;
  paintBars(answer.class_names, answer.probabilities, top);
  paintGrey(seen, answer.seen);
  paintEvidence(answer);
}

function paintBars(names, probabilities, top) {
  bars.replaceChildren(...names.map((name, k) => {
    const row = document.createElement("div");
    row.className = "bar" + (k === top ? " top" : "");
    const label = document.createElement("span");
    label.className = "name";
    label.textContent = name;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    const p = probabilities ? probabilities[k] : 0;
    fill.style.width = `${100 * p}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = probabilities ? p.toFixed(3) : "";
    row.append(label, track, value);
    return row;
  }));
}

function paintGrey(target, rows) {
  const image = new ImageData(28, 28);
  rows.flat().forEach((v, i) => { image.data.set([v, v, v, 255], 4 * i); });
  target.getContext("2d").putImageData(image, 0, 0);
}

// A diverging colour map centred on zero: blue below, white at 0, red above, |v| <= scale.
const BLUE = [33, 102, 172], RED = [178, 24, 43];
function diverging(v, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  const end = t < 0 ? BLUE : RED, a = Math.abs(t);
  return end.map((c) => Math.round(255 + a * (c - 255)));
}

function paintDiverging(target, rows, scale) {
  const image = new ImageData(28, 28);
  rows.flat().forEach((v, i) => { image.data.set([...diverging(v, scale), 255], 4 * i); });
  target.getContext("2d").putImageData(image, 0, 0);
}

function largest(maps) {
  return Math.max(0, ...maps.map((m) => Math.max(...m.flat().map(Math.abs))));
}

// A sign always, and two decimals (or two significant digits for a value below 0.01, such as a bias).
const signed = (v) => (v < 0 ? "\u2212" : "+") +
  (Math.abs(v) >= 0.01 || v === 0 ? Math.abs(v).toFixed(2) : Math.abs(v).toPrecision(2));

function figure(rows, scale, caption) {
  const fig = document.createElement("figure");
  const c = document.createElement("canvas");
  c.width = c.height = 28;
  c.className = "map";
  paintDiverging(c, rows, scale);
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  fig.append(c, cap);
  return fig;
}

function paintEvidence(answer) {
  // One scale for the templates and one for the evidence maps, so that panels compare.
  const templateScale = largest(answer.evidence.map((e) => e.template));
  const mapScale = largest(answer.evidence.map((e) => e.map));
  const binary = answer.kind === "binary";
  evidence.replaceChildren(...answer.evidence.map((e, i) => {
    const box = document.createElement("div");
    box.className = "class-panels";
    const title = document.createElement("h2");
    const [negative, positive] = answer.class_names;
    title.textContent = binary ? `the one score: + for ${positive}, \u2212 for ${negative}`
      : `${i === 0 ? "top class" : "runner-up"}: ${e.class}`;
    const numbers = document.createElement("p");
    numbers.className = "numbers";
    numbers.textContent = `sum of the map ${signed(e.sum)}, bias ${signed(e.bias)}, logit ${signed(e.logit)}`;
    const w = binary ? "w" : `w(${e.class})`;
    const panels = document.createElement("div");
    panels.className = "class-panels-row";
    panels.append(figure(e.template, templateScale, `weights ${w} (\u00b1${templateScale.toFixed(2)})`),
                  figure(e.map, mapScale, `evidence ${w} \u00b7 x (\u00b1${mapScale.toFixed(2)})`));
    const column = document.createElement("div");
    column.append(title, panels, numbers);
    box.append(column);
    return box;
  }));
}

repaint();
loadModel();
