"""PyTorch reference for bench/train.ts and bench/gpu/: the same architectures as core/ml/models.ts (small CNN;
ResNet-18 and ResNet-50 with the ImageNet stem at >= 64px), Adam, softmax cross-entropy, the same number of
threads. --device cuda runs on the GPU (cuDNN autotuning on, channels-last), copying the batch from host
memory every step as the bgstudy engines do; --amp bf16 adds autocast. Prints one JSON line:
{"torch": version, "threads": n, "device": ..., "train_ips": ..., "eval_ips": ...}."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class SmallCnn(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.norm = Normalize()
        self.convs = nn.ModuleList([nn.Conv2d(i, o, 3, padding=1) for i, o in [(3, 16), (16, 32), (32, 64)]])
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.norm(x)
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.fc(x.mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class ResNet(nn.Module):
    def __init__(self, classes, size, bottleneck=False):
        super().__init__()
        self.norm = Normalize()
        if size >= 64:  # ImageNet stem, as core/ml/models.ts above 64px
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        blocks, cin = [], 64
        for stage, width in enumerate([64, 128, 256, 512]):
            for i in range([3, 4, 6, 3][stage] if bottleneck else 2):
                stride = 2 if i == 0 and stage > 0 else 1
                blocks.append(Bottleneck(cin, width, stride) if bottleneck else BasicBlock(cin, width, stride))
                cin = width * 4 if bottleneck else width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(self.norm(x))).mean(dim=(2, 3)))


def timed(fn, seconds, min_steps=3):
    steps, start = 0, time.perf_counter()
    while steps < min_steps or time.perf_counter() - start < seconds:
        fn()
        steps += 1
    return steps, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="small_cnn", choices=["small_cnn", "resnet18", "resnet50"])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--classes", type=int, default=9)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--amp", default="fp32", choices=["fp32", "bf16"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    cuda = a.device == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    model = SmallCnn(a.classes) if a.arch == "small_cnn" else ResNet(a.classes, a.size, a.arch == "resnet50")
    model = model.to(dev, memory_format=torch.channels_last) if cuda else model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Host NHWC batch, as the bgstudy engines receive it; copied to the device every step.
    x_host = torch.rand(a.batch, a.size, a.size, 3)
    y_host = torch.randint(0, a.classes, (a.batch,))
    amp = torch.autocast(a.device, dtype=torch.bfloat16, enabled=a.amp == "bf16")

    def batch():
        x = x_host.to(dev).permute(0, 3, 1, 2)
        return (x.contiguous(memory_format=torch.channels_last) if cuda else x.contiguous()), y_host.to(dev)

    def train_step():
        x, y = batch()
        opt.zero_grad()
        with amp:
            loss = F.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()
        loss.item()

    def eval_step():
        x, _ = batch()
        with torch.no_grad(), amp:
            model(x).argmax(1).cpu()

    model.train()
    for _ in range(2):
        train_step()
    steps, secs = timed(train_step, a.seconds)
    train_ips = steps * a.batch / secs
    model.eval()
    eval_step()
    esteps, esecs = timed(eval_step, a.seconds / 2)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": a.device,
                      "amp": a.amp, "train_ips": train_ips,
                      "eval_ips": esteps * a.batch / esecs, "steps": steps}))


if __name__ == "__main__":
    main()
