"""Writes examples/delivery/street_00N.jpg: the four "photos" the COCO delivery annotates.

Synthetic (drawn, seeded, no real photo): sky, buildings, a road, and each object of the
corrected delivery (instances_v2.json) as a coloured shape where its box is, so a diff page
made with `--media-root examples/delivery` shows the boxes over something that fits them.
"""

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent / "delivery"
COLOURS = {1: (52, 101, 164), 3: (78, 154, 6), 7: (206, 92, 0)}  # car, bicycle, person

coco = json.loads((HERE / "instances_v2.json").read_text())
random.seed(7)
for image in coco["images"]:
    w, h = image["width"], image["height"]
    img = Image.new("RGB", (w, h), (186, 212, 236))
    draw = ImageDraw.Draw(img)
    x = 0
    while x < w:  # a row of buildings on the horizon
        bw = random.randint(40, 110)
        top = random.randint(h // 6, h // 2 - 20)
        grey = random.randint(120, 190)
        draw.rectangle([x, top, x + bw, h // 2], fill=(grey, grey - 8, grey - 16))
        x += bw + random.randint(0, 12)
    draw.rectangle([0, h // 2, w, h], fill=(96, 96, 100))  # the road
    for y in range(h // 2 + 40, h, 60):
        draw.rectangle([w // 2 - 4, y, w // 2 + 4, y + 28], fill=(236, 236, 220))
    for ann in coco["annotations"]:
        if ann["image_id"] != image["id"] or ann.get("iscrowd"):
            continue
        bx, by, bw, bh = ann["bbox"]
        draw.rounded_rectangle([bx + 2, by + 2, bx + bw - 2, by + bh - 2], radius=6,
                               fill=COLOURS[ann["category_id"]])
    img.save(HERE / image["file_name"], format="JPEG", quality=60, optimize=True)
