#!/usr/bin/env python3
"""PyTorch twin of the C# speed benchmark (featureaug-bench speed): the same CIFAR ResNet (He et al. option-A
shortcuts for resnet8..56, kuangliu projection shortcuts for resnet18/34), the same batch, threads and input size,
and the identical loops:
  phase1:  forward, cross-entropy, zero_grad, backward, SGD step (lr 0.1, momentum 0.9, weight decay 2e-4)
  extract: eval mode, no grad: feature map, GAP, logits, softmax, own-label CAM (einsum of W[y] with the map)
Inputs are random tensors (data loading is not timed on either side). Prints one JSON line.
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class ZeroPad(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.stride, self.before, self.after = stride, (out - inp) // 2, out - inp - (out - inp) // 2

    def forward(self, x):
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, inp, planes, stride, projection):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride == 1 and inp == planes:
            self.shortcut = nn.Sequential()
        elif projection:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        else:
            self.shortcut = ZeroPad(inp, planes, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, widths, blocks, projection, in_ch, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, inp = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            stage = []
            for j in range(n):
                stage.append(BasicBlock(inp, w, (1 if i == 0 else 2) if j == 0 else 1, projection))
                inp = w
            layers.append(nn.Sequential(*stage))
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(inp, classes)

    def features(self, x):
        return self.layers(F.relu(self.bn1(self.conv1(x))))

    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))


def make(name, in_ch, classes):
    if name in ("resnet18", "resnet34"):
        blocks = [2, 2, 2, 2] if name == "resnet18" else [3, 4, 6, 3]
        return CifarResNet([64, 128, 256, 512], blocks, True, in_ch, classes)
    n = (int(name[6:]) - 2) // 6
    return CifarResNet([16, 32, 64], [n, n, n], False, in_ch, classes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet20")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = make(a.model, a.channels, a.classes).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    x = torch.randn(a.batch_size, a.channels, a.size, a.size, device=dev)
    y = torch.randint(0, a.classes, (a.batch_size,), device=dev)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)

    model.train()
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            sync(); start = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    sync()
    train_ips = a.steps * a.batch_size / (time.perf_counter() - start)

    model.eval()
    with torch.no_grad():
        for step in range(a.warmup + a.steps):
            if step == a.warmup:
                sync(); start = time.perf_counter()
            fmap = model.features(x)
            pooled = fmap.mean((2, 3))
            scores = torch.softmax(model.fc(pooled), 1)
            cams = torch.einsum("nk,nkhw->nhw", model.fc.weight[y], fmap)
            cams.sum().item(); scores.sum().item()
    sync()
    extract_ips = a.steps * a.batch_size / (time.perf_counter() - start)
    print(json.dumps({"impl": "pytorch " + torch.__version__, "device": a.device, "model": a.model, "batch": a.batch_size,
                      "threads": a.threads, "input": [a.channels, a.size, a.size],
                      "phase1ImagesPerSecond": train_ips, "extractImagesPerSecond": extract_ips}))


if __name__ == "__main__":
    main()
