using System.Diagnostics;
using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using FeatureAug.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FeatureAug.Core.Training;

/// <summary>One optimisation step as reported to a progress callback.</summary>
/// <param name="Epoch">1-based epoch being trained.</param>
/// <param name="Epochs">Total epochs of the schedule.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps in every epoch.</param>
/// <param name="Loss">Loss of this step's batch.</param>
/// <param name="ImagesPerSecond">Throughput since the start of this epoch.</param>
/// <param name="LearningRate">Rate used by this step.</param>
public sealed record TrainingProgress(
    int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double ImagesPerSecond, double LearningRate);

/// <summary>What a training call did.</summary>
/// <param name="StartEpoch">Completed epochs before this call (from a checkpoint, else 0).</param>
/// <param name="FinalEpoch">Completed epochs after this call.</param>
/// <param name="EpochLosses">Mean training loss of every completed epoch 1..FinalEpoch, resumed ones included.</param>
/// <param name="Seconds">Wall time of this call.</param>
/// <param name="ImagesPerSecond">Training images processed per second in this call (0 when it trained nothing).</param>
public sealed record TrainingResult(int StartEpoch, int FinalEpoch, IReadOnlyList<double> EpochLosses, double Seconds, double ImagesPerSecond);

/// <summary>
/// Phase I (the TrainBackbone stage): trains the whole network with SGD (momentum, weight decay), warm-up plus step or cosine
/// schedule, cross-entropy or focal loss, on shuffled and optionally augmented batches. The loop
/// follows torchvision's references/classification train_one_epoch.
/// </summary>
public static class BackboneTraining
{
    /// <summary>Trains to <see cref="TrainingOptions.Epochs"/>, resuming from the latest checkpoint when there is one.</summary>
    /// <param name="seed">The run seed: with the epoch number it fixes each epoch's order and augmentation.</param>
    /// <param name="checkpoints">Where a checkpoint is written after every epoch and resumed from; null: no checkpoints.</param>
    public static TrainingResult Train(
        FeatureClassifier model, ImageDataset train, Normalization normalization, TrainingOptions options, int seed, Device device,
        CheckpointOptions? checkpoints = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return TrainUntil(model, train, normalization, options, seed, device, options.Epochs, checkpoints, progress, cancellationToken);
    }

    /// <summary>
    /// Trains epochs StartEpoch+1..<paramref name="endEpoch"/> of the full schedule, where StartEpoch is
    /// the newest checkpoint at or before endEpoch in <paramref name="checkpoints"/> (0 when there is none or no
    /// checkpoints are kept). Lets a workflow run the schedule in chunks that resume each other; a chunk
    /// whose checkpoint already exists only loads it.
    /// </summary>
    /// <param name="seed">The run seed: with the epoch number it fixes each epoch's order and augmentation, so a
    /// resumed epoch repeats them. A checkpoint resumes only the same options and seed.</param>
    /// <param name="checkpoints">Where a checkpoint is written after every epoch and resumed from; null: no checkpoints.</param>
    /// <exception cref="ArgumentException">Invalid options, or data that does not fit the model or normalisation.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint was written by a run with other options or data.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; checkpoints of finished epochs remain.</exception>
    public static TrainingResult TrainUntil(
        FeatureClassifier model, ImageDataset train, Normalization normalization, TrainingOptions options, int seed, Device device,
        int endEpoch, CheckpointOptions? checkpoints = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        options.Validate();
        if (endEpoch < 1 || endEpoch > options.Epochs)
            throw new ArgumentOutOfRangeException(nameof(endEpoch), endEpoch, $"End epoch must be in 1..{options.Epochs}.");
        CheckData(model, train, normalization);

        var stopwatch = Stopwatch.StartNew();
        model.to(device);
        var namedParameters = model.named_parameters().ToList();
        using var optimizer = optim.SGD(
            namedParameters.Select(p => p.parameter), options.LearningRate,
            momentum: options.Momentum, weight_decay: options.WeightDecay);

        string optionsHash = options.TrajectoryHash(seed);
        var epochLosses = new List<double>();
        int startEpoch = 0;
        if (checkpoints is not null && Checkpoint.FindLatest(checkpoints.Directory, endEpoch) is { } latest)
        {
            Resume(checkpoints.Directory, latest, optionsHash, seed, train.Count, model, optimizer, namedParameters);
            startEpoch = latest.Epoch;
            epochLosses.AddRange(latest.State.EpochLosses);
        }

        int stepsPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        long imagesTrained = 0;
        for (int epoch = startEpoch; epoch < endEpoch; epoch++)
        {
            epochLosses.Add(TrainOneEpoch(model, optimizer, train, normalization, options, seed, device, epoch, stepsPerEpoch, progress, cancellationToken));
            imagesTrained += train.Count;
            if (checkpoints is not null)
            {
                var state = new CheckpointState(epoch + 1, seed, optionsHash, train.Count, epochLosses.ToList());
                using (var scope = NewDisposeScope())
                    Checkpoint.Save(checkpoints.Directory, state, model, MomentumBuffers(optimizer, namedParameters));
                Checkpoint.Prune(checkpoints.Directory, checkpoints.Keep);
            }
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        return new TrainingResult(startEpoch, endEpoch, epochLosses, seconds,
            imagesTrained == 0 ? 0 : imagesTrained / seconds);
    }

    /// <summary>The sample order of one epoch: a Fisher-Yates shuffle from the epoch's generator.</summary>
    internal static int[] EpochOrder(int count, int seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var random = new Random(SeedStreams.ForEpoch(seed, epoch, SeedStreams.EpochShuffle));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static double TrainOneEpoch(
        FeatureClassifier model, SGD optimizer, ImageDataset train, Normalization normalization, TrainingOptions options, int seed,
        Device device, int epoch, int stepsPerEpoch, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        model.train();
        var order = EpochOrder(train.Count, seed, epoch);
        var augmentation = options.Augmentation;
        var augmentationRandom = augmentation is null ? null : new Random(SeedStreams.ForEpoch(seed, epoch, SeedStreams.EpochAugmentation));
        var learningRate = optimizer.ParamGroups.Single();
        var stopwatch = Stopwatch.StartNew();
        double lossSum = 0;
        int seen = 0;

        for (int step = 0; step < stepsPerEpoch; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int start = step * options.BatchSize;
            var batchIndices = new ArraySegment<int>(order, start, Math.Min(options.BatchSize, train.Count - start));
            double rate = LearningRates.At(options, (long)epoch * stepsPerEpoch + step, stepsPerEpoch);
            learningRate.LearningRate = rate;

            double loss;
            using (var scope = NewDisposeScope())
            {
                var images = ImageTensors.ToBatch(train, batchIndices, normalization, augmentation, augmentationRandom, device);
                var labels = ImageTensors.Labels(train, batchIndices, device);
                optimizer.zero_grad();
                var logits = model.call(images);
                var batchLoss = Losses.Compute(options, logits, labels);
                batchLoss.backward();
                optimizer.step();
                loss = batchLoss.item<float>();
            }
            if (!double.IsFinite(loss))
                throw new TrainingDivergedException($"Training diverged: loss is {loss} at epoch {epoch + 1}, step {step + 1} (learning rate {rate}); lower the learning rate.");

            lossSum += loss * batchIndices.Count;
            seen += batchIndices.Count;
            progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, step + 1, stepsPerEpoch, loss,
                seen / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9), rate));
        }
        return lossSum / seen;
    }

    private static void CheckData(FeatureClassifier model, ImageDataset train, Normalization normalization)
    {
        if (train.Count == 0)
            throw new ArgumentException("The training set is empty.", nameof(train));
        if (train.NumClasses != model.NumClasses)
            throw new ArgumentException($"The training set has {train.NumClasses} classes but the model outputs {model.NumClasses}.", nameof(train));
        if (normalization.Mean.Length != train.Channels || normalization.Std.Length != train.Channels)
            throw new ArgumentException(
                $"The normalisation has {normalization.Mean.Length} means and {normalization.Std.Length} deviations for {train.Channels}-channel images.",
                nameof(normalization));
    }

    private static void Resume(
        string directory, CheckpointManifest manifest, string optionsHash, int seed, int trainImages,
        FeatureClassifier model, SGD optimizer, IReadOnlyList<(string name, Parameter parameter)> namedParameters)
    {
        var state = manifest.State;
        if (state.OptionsHash != optionsHash || state.Seed != seed)
            throw new InvalidOperationException(
                $"The checkpoint of epoch {state.Epoch} in {directory} was written with other training options (hash {state.OptionsHash}, now {optionsHash}); use a new checkpoint directory.");
        if (state.TrainImages != trainImages)
            throw new InvalidOperationException(
                $"The checkpoint of epoch {state.Epoch} in {directory} was trained on {state.TrainImages} images, this training set has {trainImages}.");
        if (state.EpochLosses.Count != state.Epoch)
            throw new InvalidDataException($"The checkpoint of epoch {state.Epoch} in {directory} records {state.EpochLosses.Count} epoch losses.");

        Checkpoint.LoadModel(directory, manifest, model);
        var buffers = Checkpoint.LoadOptimizerState(directory, manifest);
        try
        {
            RestoreMomentumBuffers(optimizer, namedParameters, buffers, directory);
        }
        finally
        {
            foreach (var tensor in buffers.Values) tensor.Dispose();
        }
    }

    // SGD keeps one state per parameter, in parameter order; its momentum buffer is stored under the parameter's name.
    private static Dictionary<string, Tensor> MomentumBuffers(SGD optimizer, IReadOnlyList<(string name, Parameter parameter)> namedParameters)
    {
        var states = optimizer.state_dict().State;
        var buffers = new Dictionary<string, Tensor>();
        for (int i = 0; i < namedParameters.Count; i++)
        {
            if (states[i] is SGD.State { momentum_buffer: { } buffer })
                buffers[namedParameters[i].name] = buffer;
        }
        return buffers;
    }

    private static void RestoreMomentumBuffers(
        SGD optimizer, IReadOnlyList<(string name, Parameter parameter)> namedParameters, IReadOnlyDictionary<string, Tensor> buffers, string directory)
    {
        var states = optimizer.state_dict().State;
        var unknown = buffers.Keys.Except(namedParameters.Select(p => p.name)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"The optimizer checkpoint in {directory} holds momentum for unknown parameters: {string.Join(", ", unknown.Take(5))}.");
        for (int i = 0; i < namedParameters.Count; i++)
        {
            var (name, parameter) = namedParameters[i];
            if (!buffers.TryGetValue(name, out var saved)) continue;
            if (!saved.shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"The optimizer checkpoint in {directory} has momentum {name} of shape [{string.Join(", ", saved.shape)}], the parameter is [{string.Join(", ", parameter.shape)}].");
            var state = (SGD.State)states[i];
            state.momentum_buffer?.Dispose();
            state.momentum_buffer = saved.to(parameter.device, copy: true).DetachFromDisposeScope();
        }
    }
}

/// <summary>The loss became NaN or infinite: the options, not the machine, are at fault, so retrying cannot help.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
