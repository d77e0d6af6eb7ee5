// Draw a digit: send the drawing to the server after each stroke, and show what the
// network answers. Plain JavaScript, no libraries; the server is src/pages/draw_server.py.

const canvas = document.getElementById("canvas");
const pen = canvas.getContext("2d");
const answerText = document.getElementById("answer");
const statusText = document.getElementById("status");
const barsBox = document.getElementById("bars");
const seenCanvas = document.getElementById("seen");
const heatmapCanvas = document.getElementById("heatmap");
const hiddenBox = document.getElementById("hidden");

const INK_WIDTH = 20; // pixels of the 280x280 canvas; about 2 of MNIST's 28
const SIDE = 28; // the network sees 28x28 images

let drawing = false;
let lastRequest = 0; // numbers each request, so that a late answer cannot overwrite a newer one

// ---- Drawing: dark ink on white paper, with mouse, pen or finger (Pointer Events) ----

function clearCanvas() {
  pen.fillStyle = "white";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  pen.strokeStyle = "black";
  pen.fillStyle = "black";
  pen.lineWidth = INK_WIDTH;
  pen.lineCap = "round";
  pen.lineJoin = "round";
}

// The canvas may be shown smaller than its 280x280 pixels (on a phone): scale the pointer.
function canvasPoint(event) {
  const box = canvas.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * (canvas.width / box.width),
    y: (event.clientY - box.top) * (canvas.height / box.height),
  };
}

canvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return; // the left button, a pen tip or a finger; not a right-click
  drawing = true;
  canvas.setPointerCapture(event.pointerId); // keep getting moves outside the canvas
  const p = canvasPoint(event);
  pen.beginPath();
  pen.arc(p.x, p.y, INK_WIDTH / 2, 0, 2 * Math.PI); // a click alone leaves a dot
  pen.fill();
  pen.beginPath();
  pen.moveTo(p.x, p.y);
});

canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  // Fast strokes: the browser may merge several moves into one event; draw them all.
  const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  const moves = coalesced.length ? coalesced : [event];
  for (const move of moves) {
    const p = canvasPoint(move);
    pen.lineTo(p.x, p.y);
  }
  pen.stroke();
  // Start the next piece where this one ends, so each move strokes only its new segment.
  const end = canvasPoint(event);
  pen.beginPath();
  pen.moveTo(end.x, end.y);
});

function endStroke() {
  if (!drawing) return;
  drawing = false;
  sendCanvas();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => {
  lastRequest += 1; // an answer still on its way is for the old drawing
  clearCanvas();
  showNothing();
});

// ---- Asking the server ----

function sendCanvas() {
  const request = ++lastRequest;
  canvas.toBlob(async (blob) => {
    try {
      const response = await fetch("/predict", { method: "POST", body: blob });
      const result = await response.json();
      if (request !== lastRequest) return; // the drawing changed meanwhile
      if (!response.ok) throw new Error(result.error || response.statusText);
      statusText.textContent = "";
      showResult(result);
    } catch (error) {
      if (request === lastRequest) statusText.textContent = "error: " + error.message;
    }
  }, "image/png");
}

// ---- Showing the answer ----

function showNothing() {
  answerText.textContent = "?";
  answerText.className = "answer waiting";
  statusText.textContent = "";
  drawBars(null, null);
  drawGrid(seenCanvas, new Array(SIDE * SIDE).fill(0), SIDE, gray);
  clearHeatmap();
  hiddenBox.replaceChildren();
}

function showResult(result) {
  answerText.textContent = result.answer;
  const refused = result.answer === "not a digit" ? " not-a-digit" : " unsure";
  answerText.className = "answer" + (result.digit === null ? refused : "");
  drawBars(result.probabilities, result.best_guess);
  drawGrid(seenCanvas, result.image, SIDE, gray);
  if (result.saliency) drawHeatmap(result.image, result.saliency);
  else clearHeatmap();
  drawHidden(result.hidden || []);
}

// Ten rows: digit, bar as long as its probability, percentage.
function drawBars(probabilities, best) {
  barsBox.replaceChildren();
  for (let digit = 0; digit < 10; digit++) {
    const p = probabilities ? probabilities[digit] : 0;
    const row = document.createElement("div");
    row.className = "bar-row" + (digit === best ? " best" : "");
    row.dataset.digit = digit;
    const label = document.createElement("span");
    label.textContent = digit;
    const track = document.createElement("div");
    track.className = "bar-track";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = (100 * p).toFixed(1) + "%";
    track.append(bar);
    const percent = document.createElement("span");
    percent.className = "percent";
    percent.textContent = probabilities ? (100 * p).toFixed(1) + "%" : "";
    row.append(label, track, percent);
    barsBox.append(row);
  }
}

// Draw `values` (row by row) as a grid of `columns` squares filling the canvas,
// each square's colour given by color(value), with `gap` pixels between squares.
function drawGrid(target, values, columns, color, gap = 0) {
  const g = target.getContext("2d");
  const size = target.width / columns;
  g.clearRect(0, 0, target.width, target.height);
  values.forEach((value, i) => {
    g.fillStyle = color(value);
    const x = (i % columns) * size;
    const y = Math.floor(i / columns) * size;
    g.fillRect(x, y, size - gap, size - gap);
  });
}

function gray(v) {
  const level = Math.round(255 * Math.min(Math.max(v, 0), 1));
  return `rgb(${level}, ${level}, ${level})`;
}

// The heat map: white paper with the digit in faint grey, then red where the gradient
// of the answer's score is positive and blue where it is negative, as strong as it is.
function drawHeatmap(image, saliency) {
  const largest = Math.max(...saliency.map(Math.abs)) || 1;
  const colors = saliency.map((s, i) => {
    const paper = 255 - 90 * image[i]; // the faint digit
    const strength = Math.abs(s) / largest;
    const tint = s > 0 ? [200, 30, 30] : [30, 70, 200];
    const mix = tint.map((c) => Math.round(paper + (c - paper) * strength));
    return `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`;
  });
  drawGrid(heatmapCanvas, colors, SIDE, (color) => color);
}

function clearHeatmap() {
  drawGrid(heatmapCanvas, new Array(SIDE * SIDE).fill("white"), SIDE, (color) => color);
}

// One grid per hidden layer, 16 units to a row; brightness relative to the layer's
// most active unit.
function drawHidden(layers) {
  hiddenBox.replaceChildren();
  const columns = 16;
  const square = 16; // pixels, gap included
  layers.forEach((activations, index) => {
    const largest = Math.max(...activations) || 1;
    const active = activations.filter((a) => a > 0).length;
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = `layer ${index + 1}: ${activations.length} units, ${active} active`;
    const grid = document.createElement("canvas");
    grid.width = columns * square;
    grid.height = Math.ceil(activations.length / columns) * square;
    const color = (a) => `rgba(255, 196, 0, ${a / largest})`;
    drawGrid(grid, activations, columns, color, 2);
    figure.append(caption, grid);
    hiddenBox.append(figure);
  });
}

clearCanvas();
showNothing();
