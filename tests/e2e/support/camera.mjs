// Pictures for Chromium's fake camera: a QR code or an EAN-13 barcode drawn into a
// 640x480 Y4M video (4:2:0, grey), the format `--use-file-for-fake-video-capture` plays.
import { writeFileSync } from "node:fs";
import QRCode from "qrcode";

export const WIDTH = 640;
export const HEIGHT = 480;
const LIGHT = 230;
const DARK = 20;

/** Writes `frames` identical frames of the grey picture `luma` (WIDTH x HEIGHT bytes). */
export function writeY4m(path, luma, frames = 3) {
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\n`);
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2), 128);
  const parts = [header];
  for (let i = 0; i < frames; i++) parts.push(Buffer.from("FRAME\n"), Buffer.from(luma), chroma, chroma);
  writeFileSync(path, Buffer.concat(parts));
}

/** The QR code of `text` (error correction M), `scale` pixels per module, centred. */
export function qrLuma(text, scale = 8) {
  const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = qr.modules.size;
  const luma = new Uint8Array(WIDTH * HEIGHT).fill(LIGHT);
  const ox = Math.floor((WIDTH - n * scale) / 2);
  const oy = Math.floor((HEIGHT - n * scale) / 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (!qr.modules.get(r, c)) continue;
      for (let y = 0; y < scale; y++) luma.fill(DARK, (oy + r * scale + y) * WIDTH + ox + c * scale, (oy + r * scale + y) * WIDTH + ox + (c + 1) * scale);
    }
  }
  return luma;
}

const L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"];
const G = ["0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001", "0001001", "0010111"];
const R = ["1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100", "1001000", "1110100"];
const PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"];

/** The 95 modules of an EAN-13 (13 digits, check digit included). */
export function ean13Modules(code) {
  if (!/^\d{13}$/.test(code)) throw new Error(`not 13 digits: ${code}`);
  const d = [...code].map(Number);
  const sum = d.slice(0, 12).reduce((s, x, i) => s + x * (i % 2 ? 3 : 1), 0);
  if ((10 - (sum % 10)) % 10 !== d[12]) throw new Error(`bad check digit: ${code}`);
  let bits = "101";
  for (let i = 1; i <= 6; i++) bits += (PARITY[d[0]][i - 1] === "L" ? L : G)[d[i]];
  bits += "01010";
  for (let i = 7; i <= 12; i++) bits += R[d[i]];
  return bits + "101";
}

/** An EAN-13 barcode, `scale` pixels per module, 200 px tall, centred. */
export function ean13Luma(code, scale = 5) {
  const bits = ean13Modules(code);
  const luma = new Uint8Array(WIDTH * HEIGHT).fill(LIGHT);
  const ox = Math.floor((WIDTH - bits.length * scale) / 2);
  for (let y = 140; y < 340; y++) {
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] === "1") luma.fill(DARK, y * WIDTH + ox + i * scale, y * WIDTH + ox + (i + 1) * scale);
    }
  }
  return luma;
}
