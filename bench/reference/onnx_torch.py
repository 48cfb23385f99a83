"""PyTorch side of `npm run bench:onnx`: a torchvision-layout ResNet-18 (random seeded weights; torchvision is not
installed here, so the architecture is written out), exported to ONNX for the TS side, and its own inference
throughput at the challenge's shape (batch 64, 224 px, ImageNet normalization inside the timed forward).

    /usr/bin/python3 bench/reference/onnx_torch.py OUT_DIR SECONDS THREADS

Writes OUT_DIR/resnet18.onnx, OUT_DIR/probe.bin (2 float32 NCHW inputs in [0, 1]) and OUT_DIR/probe-logits.json
(PyTorch's logits on them, for the TS side to check it runs the same model); prints one JSON line.
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class ResNet18(nn.Module):
    """torchvision.models.resnet18's layout (same layers, shapes and 1000-class head)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    out_dir, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = ResNet18().eval()
    os.makedirs(out_dir, exist_ok=True)
    probe = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.onnx.export(
            model,
            probe,
            os.path.join(out_dir, "resnet18.onnx"),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=13,
        )
        probe_logits = model((probe - MEAN) / STD)
    probe.numpy().astype(np.float32).tofile(os.path.join(out_dir, "probe.bin"))
    with open(os.path.join(out_dir, "probe-logits.json"), "w") as f:
        json.dump(probe_logits.numpy().astype(float).tolist(), f)

    x = torch.rand(64, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        model((x - MEAN) / STD)  # warm-up
        done, t0 = 0, time.perf_counter()
        while True:
            model((x - MEAN) / STD)
            done += 64
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds and done >= 128:
                break
    print(json.dumps({"torch": torch.__version__, "threads": threads, "ips": done / elapsed, "images": done}))


if __name__ == "__main__":
    main()
