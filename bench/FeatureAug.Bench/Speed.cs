using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FeatureAug.Core;
using FeatureAug.Core.Data;
using FeatureAug.Core.Fsa;
using FeatureAug.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Bench;

/// <summary>
/// Speed of our TorchSharp code on the loops bench/pytorch_phase1.py runs in PyTorch (same network, batch, threads,
/// input size, random inputs), the batched own-label CAM against per-sample Grad-CAM, and the FSA phases (extract,
/// fuse, fine-tune) on Fashion-MNIST-LT against the Phase-I time of the protocol. Prints one JSON line.
/// </summary>
internal static class Speed
{
    public static async Task<int> RunAsync(Args args)
    {
        string model = args.String("model", "resnet20");
        int batch = args.Int("batch-size", 128), threads = args.Int("threads", 2), steps = args.Int("steps", 30), warmup = args.Int("warmup", 3);
        int size = args.Int("size", 28), channels = args.Int("channels", 1), classes = args.Int("classes", 10);
        int camImages = args.Int("cam-images", 128);
        int epochs = args.Int("epochs", 30), iterations = args.Int("finetune-iterations", 6400);
        double imbalance = args.Double("imbalance-factor", 100);
        bool fsaPhases = !args.Flag("skip-fsa");
        torch.set_num_threads(threads);
        // cpu (default) or cuda: the network, the synthetic batches and the extraction run there; fusion and Phase II
        // are CPU code in Core and run on the CPU either way.
        var device = DeviceSelection.Resolve(args.String("device", "cpu"));
        torch.manual_seed(0);

        using var net = ModelFactory.Create(model, channels, classes);
        net.to(device);
        var x = torch.randn(batch, channels, size, size).to(device);
        var y = torch.randint(0, classes, new long[] { batch }).to(device);
        double phase1 = PhaseOneLoop(net, x, y, steps, warmup);
        double extract = ExtractLoop(net, x, y, steps, warmup);
        var (batchedCam, perSampleCam) = CamThroughput(net, x, y, Math.Min(camImages, batch));

        var result = new Dictionary<string, object>
        {
            ["impl"] = "ours (TorchSharp 0.107.0)", ["model"] = model, ["batch"] = batch, ["threads"] = threads,
            ["device"] = device.type == DeviceType.CUDA ? "cuda" : "cpu",
            ["input"] = new[] { channels, size, size },
            ["phase1ImagesPerSecond"] = phase1, ["extractImagesPerSecond"] = extract,
            ["camBatchedImagesPerSecond"] = batchedCam, ["camPerSampleGradCamImagesPerSecond"] = perSampleCam,
        };
        if (fsaPhases) await FsaPhasesAsync(net, device, phase1, epochs, iterations, imbalance, result);
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary>Forward, cross-entropy, zero_grad, backward, SGD step (lr 0.1, momentum 0.9, wd 2e-4): images/s.</summary>
    private static double PhaseOneLoop(FeatureClassifier net, Tensor x, Tensor y, int steps, int warmup)
    {
        net.train();
        using var optimizer = optim.SGD(net.parameters(), 0.1, 0.9, weight_decay: 2e-4);
        var clock = new Stopwatch();
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup)
            {
                Synchronize(x.device); // the warm-up's queued GPU work is not timed
                clock.Start();
            }
            using var scope = torch.NewDisposeScope();
            var loss = nn.functional.cross_entropy(net.forward(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        Synchronize(x.device);
        return steps * x.shape[0] / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Eval mode, no grad: feature map, GAP, logits, softmax, own-label CAM: images/s.</summary>
    private static double ExtractLoop(FeatureClassifier net, Tensor x, Tensor y, int steps, int warmup)
    {
        net.eval();
        using var noGrad = torch.no_grad();
        var clock = new Stopwatch();
        for (int step = 0; step < warmup + steps; step++)
        {
            if (step == warmup) clock.Start();
            using var scope = torch.NewDisposeScope();
            var maps = net.ForwardFeatures(x);
            var scores = net.Classifier.forward(maps.mean(new long[] { 2, 3 })).softmax(1);
            var cams = CamDecomposition.OwnLabelCams(maps, net.Classifier.weight!, y);
            cams.sum().item<float>();
            scores.sum().item<float>();
        }
        return steps * x.shape[0] / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Normalised own-label CAMs of <paramref name="count"/> images: batched (one forward, one bmm, as the extractor
    /// does) against per-sample Grad-CAM (a forward and a backward of the class score per image, weights = mean
    /// gradient). With GAP followed by one FC, Grad-CAM's map equals the CAM up to a positive factor, so both give the
    /// same decomposition; images/s of each.
    /// </summary>
    private static (double Batched, double PerSample) CamThroughput(FeatureClassifier net, Tensor x, Tensor y, int count)
    {
        net.eval();
        var images = x[..count];
        var labels = y[..count];
        // One untimed pass of each first: the first call pays for kernel selection and library start-up (cuBLAS on a GPU).
        BatchedCams(net, images, labels);
        PerSampleGradCams(net, images, labels, 1);
        const int batchedRepeats = 10; // one batched pass is milliseconds on a GPU: time several
        var clock = Stopwatch.StartNew();
        for (int r = 0; r < batchedRepeats; r++) BatchedCams(net, images, labels);
        double batched = batchedRepeats * count / clock.Elapsed.TotalSeconds;
        clock.Restart();
        PerSampleGradCams(net, images, labels, count);
        double perSample = count / clock.Elapsed.TotalSeconds;
        return (batched, perSample);
    }

    private static void BatchedCams(FeatureClassifier net, Tensor images, Tensor labels)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var cams = CamDecomposition.NormalizeMinMax(CamDecomposition.OwnLabelCams(net.ForwardFeatures(images), net.Classifier.weight!, labels));
        cams.sum().item<float>();
    }

    private static void PerSampleGradCams(FeatureClassifier net, Tensor images, Tensor labels, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var scope = torch.NewDisposeScope();
            var maps = net.ForwardFeatures(images[i..(i + 1)]).detach().requires_grad_(true);
            var logits = net.Classifier.forward(maps.mean(new long[] { 2, 3 }));
            var grads = torch.autograd.grad(new[] { logits[0, labels[i].item<long>()] }, new[] { maps })[0];
            var weights = grads.mean(new long[] { 2, 3 }, keepdim: true);
            var cam = (weights * maps).sum(1).relu().flatten(1);
            CamDecomposition.NormalizeMinMax(cam.detach()).sum().item<float>();
        }
    }

    /// <summary>
    /// Extract, fuse (every tail class, paper options) and FSA fine-tune on Fashion-MNIST-LT, timed, against the
    /// Phase-I time of <paramref name="epochs"/> epochs at the measured synthetic Phase-I speed (which leaves out data
    /// loading and augmentation, so Phase I is if anything underestimated and the fraction overestimated).
    /// </summary>
    private static async Task FsaPhasesAsync(FeatureClassifier net, Device device, double phase1ImagesPerSecond, int epochs, int iterations, double imbalance, Dictionary<string, object> result)
    {
        var full = await new FashionMnist().LoadAsync();
        var train = LongTailed.Build(full.Train, imbalance, ImbalanceProfile.Exp);
        var normalization = Normalization.FromDataset(train);
        var options = new FsaOptions { FineTuneIterations = iterations };
        var clock = Stopwatch.StartNew();
        using var features = FeatureExtractor.Extract(net, train, normalization, 256, device);
        double extractSeconds = clock.Elapsed.TotalSeconds;
        net.to(torch.CPU);
        using var phaseOne = ClassifierHead.FromLinear(net.Classifier);
        clock.Restart();
        var plan = AugmentationPlan.Create(features.ClassCounts(), features.MeanScores(), options, seed: 0);
        var banks = FeatureFusion.FuseAll(plan, features);
        double fuseSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (var pooled = features.Pooled())
        using (var fsa = HeadFineTuning.TrainFsa(pooled, plan, banks, phaseOne)) { }
        double fineTuneSeconds = clock.Elapsed.TotalSeconds;
        foreach (var bank in banks) bank.Dispose();
        double phase1Seconds = (double)epochs * train.Count / phase1ImagesPerSecond;
        result["trainImages"] = train.Count;
        result["phase1EpochsAssumed"] = epochs;
        result["phase1SecondsProjected"] = phase1Seconds;
        result["extractSeconds"] = extractSeconds;
        result["extractRealImagesPerSecond"] = train.Count / extractSeconds;
        result["fuseSeconds"] = fuseSeconds;
        result["fineTuneSeconds"] = fineTuneSeconds;
        result["fineTuneIterations"] = iterations;
        result["fsaFractionOfPhase1"] = (extractSeconds + fuseSeconds + fineTuneSeconds) / phase1Seconds;
    }

    /// <summary>Waits for queued CUDA work so a timer read after it covers the work (a no-op on CPU).</summary>
    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
