using FeatureAug.Core.Data;
using FeatureAug.Core.Models;
using FeatureAug.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FeatureAug.Core.Fsa;

/// <summary>
/// The ExtractFeatures stage (Phase II inputs): runs the frozen Phase-I backbone once over a dataset (eval mode, no gradients, batched) and keeps what FSA
/// needs: pooled features, last feature maps, softmax scores and own-label CAMs.
/// </summary>
public static class FeatureExtractor
{
    /// <summary>
    /// Extracts the training-set features per class. View 0 is the clean image (no input augmentation, the paper);
    /// views 1..<paramref name="views"/> are random Phase-I crops/flips drawn from a seeded stream per view.
    /// Scores are kept for the clean view only (they rank confusing classes). Samples are processed in
    /// class-sorted order so each class's features are one contiguous block; the model's train/eval mode is restored.
    /// </summary>
    /// <param name="storeVectorsAsHalf">Keep the feature maps as float16 (halves the largest tensor).</param>
    public static ExtractedFeatures Extract(
        FeatureClassifier model, ImageDataset data, Normalization norm, int batchSize, Device device,
        int views = 0, AugmentationOptions? viewAugmentation = null, int seed = 0, bool storeVectorsAsHalf = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(norm);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        if (views < 0) throw new ArgumentOutOfRangeException(nameof(views), views, "Views must be 0 or more.");
        if (data.Count == 0) throw new ArgumentException("The dataset holds no images.", nameof(data));
        if (model.NumClasses != data.NumClasses)
            throw new ArgumentException($"The model predicts {model.NumClasses} classes but the dataset has {data.NumClasses}.", nameof(model));
        var augmentation = viewAugmentation ?? new AugmentationOptions();

        int[] counts = data.ClassCounts();
        int[] order = ClassSortedOrder(data.Labels, counts);
        int total = order.Length, classes = data.NumClasses, viewsPerSample = 1 + views;
        var storage = storeVectorsAsHalf ? ScalarType.Float16 : ScalarType.Float32;

        bool wasTraining = model.training;
        model.eval();
        Tensor? pooledAll = null, vectorsAll = null, camsAll = null, scoresAll = null;
        int channels = 0, height = 0, width = 0;
        try
        {
            using var noGrad = torch.no_grad();
            using var weight = model.Classifier.weight!.detach();
            for (int view = 0; view < viewsPerSample; view++)
            {
                var random = view == 0 ? null : new Random(SeedStreams.Derive(seed, SeedStreams.ViewAugmentation, view));
                for (int start = 0; start < total; start += batchSize)
                {
                    using var scope = torch.NewDisposeScope();
                    var indices = new ArraySegment<int>(order, start, Math.Min(batchSize, total - start));
                    var images = ImageTensors.ToBatch(data, indices, norm, view == 0 ? null : augmentation, random, device);
                    var labels = ImageTensors.Labels(data, indices, device);
                    var maps = model.ForwardFeatures(images);
                    if (pooledAll is null)
                    {
                        channels = (int)maps.shape[1];
                        height = (int)maps.shape[2];
                        width = (int)maps.shape[3];
                        pooledAll = torch.empty(new long[] { total, viewsPerSample, channels }).DetachFromDisposeScope();
                        vectorsAll = torch.empty(new long[] { total, viewsPerSample, height * width, channels }, dtype: storage).DetachFromDisposeScope();
                        camsAll = torch.empty(new long[] { total, viewsPerSample, height * width }).DetachFromDisposeScope();
                        scoresAll = torch.empty(new long[] { total, classes }).DetachFromDisposeScope();
                    }
                    int n = indices.Count;
                    var pooled = maps.mean(new long[] { 2, 3 });
                    var cams = CamDecomposition.NormalizeMinMax(CamDecomposition.OwnLabelCams(maps, weight, labels));
                    var vectors = maps.reshape(n, channels, height * width).transpose(1, 2);
                    pooledAll.narrow(0, start, n).select(1, view).copy_(pooled.cpu());
                    vectorsAll!.narrow(0, start, n).select(1, view).copy_(vectors.to_type(storage).cpu());
                    camsAll!.narrow(0, start, n).select(1, view).copy_(cams.to_type(ScalarType.Float32).cpu());
                    if (view == 0)
                        scoresAll!.narrow(0, start, n).copy_(torch.softmax(model.Classifier.forward(pooled), 1).to_type(ScalarType.Float32).cpu());
                }
            }

            var perClass = new ClassFeatures[classes];
            int offset = 0;
            for (int c = 0; c < classes; c++)
            {
                int n = counts[c];
                perClass[c] = new ClassFeatures(
                    c, order[offset..(offset + n)],
                    pooledAll!.narrow(0, offset, n), vectorsAll!.narrow(0, offset, n),
                    camsAll!.narrow(0, offset, n), scoresAll!.narrow(0, offset, n), height, width);
                offset += n;
            }
            return new ExtractedFeatures(perClass);
        }
        finally
        {
            // The per-class narrow views keep the storage alive; these handles are no longer needed.
            pooledAll?.Dispose();
            vectorsAll?.Dispose();
            camsAll?.Dispose();
            scoresAll?.Dispose();
            model.train(wasTraining);
        }
    }

    /// <summary>Pooled features (N x K, float32, CPU) of every image in dataset order, clean view: for evaluating heads.</summary>
    public static Tensor ExtractPooled(FeatureClassifier model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            var batches = new List<Tensor>();
            try
            {
                for (int start = 0; start < data.Count; start += batchSize)
                {
                    using var scope = torch.NewDisposeScope();
                    var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
                    var images = ImageTensors.ToBatch(data, indices, norm, device: device);
                    batches.Add(model.ForwardPooled(images).to_type(ScalarType.Float32).cpu().DetachFromDisposeScope());
                }
                return batches.Count == 0
                    ? torch.empty(new long[] { 0, model.FeatureChannels })
                    : torch.cat(batches, 0);
            }
            finally
            {
                foreach (var batch in batches) batch.Dispose();
            }
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Dataset indices sorted by label, dataset order kept within a class (counting sort).</summary>
    internal static int[] ClassSortedOrder(int[] labels, int[] counts)
    {
        var next = new int[counts.Length];
        for (int c = 1; c < counts.Length; c++) next[c] = next[c - 1] + counts[c - 1];
        var order = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) order[next[labels[i]]++] = i;
        return order;
    }
}
