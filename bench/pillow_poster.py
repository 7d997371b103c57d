#!/usr/bin/env python3
"""Reference poster: the same 750x1334 poster composed with Pillow, as the original Django design
did (paste a round avatar, draw the nickname and rule, paste the QR), saved as PNG and as JPEG
(quality 80). Reads a JSON job on stdin, prints timings and sizes as JSON on stdout.

Each timed run does the whole per-fan job: decode the background, compose, encode. Fonts are
loaded once before the runs (a long-lived Django worker would cache them), which favours the
reference. The QR modules come from the same qrcode-generator matrix the worker draws.
"""
import io
import json
import sys
import time

from PIL import Image, ImageDraw, ImageFont, ImageOps
import PIL

W, H = 750, 1334


def compose(job, bg_bytes, avatar_bytes, fonts):
    lay = job["layout"]
    canvas = ImageOps.fit(Image.open(io.BytesIO(bg_bytes)).convert("RGB"), (W, H), Image.LANCZOS)

    # Round avatar: mask drawn at 4x and scaled down for an anti-aliased edge.
    a = lay["avatar"]
    size = a["size"]
    avatar = Image.open(io.BytesIO(avatar_bytes)).convert("RGB").resize((size, size), Image.LANCZOS)
    mask = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    canvas.paste(avatar, (a["x"], a["y"]), mask.resize((size, size), Image.LANCZOS))

    draw = ImageDraw.Draw(canvas)
    n = lay["nickname"]
    draw.text((n["x"], n["y"]), job["nickname"], font=fonts["nickname"], fill=n["color"])
    r = lay["rule"]
    draw.text((r["x"], r["y"]), job["rule"], font=fonts["rule"], fill=r["color"])

    # QR: white square (quiet zone included), whole-pixel modules, as the worker's qrSvg does.
    q, qr = lay["qr"], job["qr"]
    draw.rectangle((q["x"], q["y"], q["x"] + q["size"] - 1, q["y"] + q["size"] - 1), fill="#ffffff")
    cell, off = qr["cell"], qr["offset"]
    for row, line in enumerate(qr["rows"]):
        for col, dark in enumerate(line):
            if dark == "1":
                x = q["x"] + off + col * cell
                y = q["y"] + off + row * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill="#000000")
    return canvas


def main():
    job = json.load(sys.stdin)
    with open(job["background"], "rb") as f:
        bg_bytes = f.read()
    with open(job["avatar"], "rb") as f:
        avatar_bytes = f.read()
    lay = job["layout"]
    fonts = {
        "nickname": ImageFont.truetype(job["font"], lay["nickname"]["fontSize"], index=job.get("font_index", 0)),
        "rule": ImageFont.truetype(job["font"], lay["rule"]["fontSize"], index=job.get("font_index", 0)),
    }
    out = {"pillow": PIL.__version__, "runs": job["runs"]}
    for fmt in ("png", "jpeg"):
        times = []
        data = b""
        for i in range(job["warmup"] + job["runs"]):
            t0 = time.perf_counter()
            img = compose(job, bg_bytes, avatar_bytes, fonts)
            buf = io.BytesIO()
            if fmt == "png":
                img.save(buf, "PNG")
            else:
                img.save(buf, "JPEG", quality=80)
            data = buf.getvalue()
            if i >= job["warmup"]:
                times.append((time.perf_counter() - t0) * 1000)
        with open(f'{job["out"]}.{"png" if fmt == "png" else "jpg"}', "wb") as f:
            f.write(data)
        out[fmt] = {"times_ms": times, "bytes": len(data)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
