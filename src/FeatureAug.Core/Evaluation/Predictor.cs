using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Evaluation;

/// <summary>Predicted classes of a whole data set, for <see cref="ClassificationMetrics.Compute"/>.</summary>
public static class Predictor
{
    /// <summary>
    /// The arg-max class of every image, in dataset order. Runs in eval mode (batch norm uses its running
    /// statistics) under no_grad on clean, unaugmented images, so it is deterministic; the model's
    /// train/eval mode is restored afterwards. Moves the model to <paramref name="device"/>.
    /// </summary>
    public static int[] Predict(FeatureClassifier model, ImageDataset data, Normalization normalization, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (normalization.Mean.Length != data.Channels)
            throw new ArgumentException($"The normalisation has {normalization.Mean.Length} channels, the images {data.Channels}.", nameof(normalization));

        bool wasTraining = model.training;
        model.to(device);
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var predictions = new int[data.Count];
            var indices = Enumerable.Range(0, data.Count).ToArray();
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = new ArraySegment<int>(indices, start, Math.Min(batchSize, data.Count - start));
                var images = ImageTensors.ToBatch(data, batch, normalization, device: device);
                var classes = model.call(images).argmax(1).to(ScalarType.Int32).cpu();
                classes.data<int>().CopyTo(predictions, start);
            }
            return predictions;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
