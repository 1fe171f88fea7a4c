using FeatureAug.Core.Data;
using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow;

/// <summary>
/// Class counts and image shape of a validated data set. TrainCounts are of the images Phase I and Phase II train on
/// (the validation images held out); ValidationSource says where validation came from (<see cref="ValidationSplit"/>).
/// </summary>
public sealed record DatasetSummary(
    string Name,
    IReadOnlyList<string> Classes,
    int[] TrainCounts,
    int[] TestCounts,
    int Channels,
    int Height,
    int Width,
    float[] Mean,
    float[] Std,
    int[] ValidationCounts,
    string ValidationSource)
{
    /// <summary>Whether the run has validation images to choose on.</summary>
    public bool HasValidation => ValidationCounts.Sum() > 0;
}

/// <summary>
/// Step 1: loads the data set, checks class counts and the split, and records what later steps need
/// (counts, shape, normalisation). Bad data fails the run here with a reason a user can act on.
/// </summary>
public sealed class ValidateDatasetActivity(RunWorkspace workspace, StageServices services)
    : StageActivity<RunRequest, DatasetSummary>(services)
{
    protected override string RunIdOf(RunRequest input) => input.RunId;

    protected override async Task<DatasetSummary?> TryReuseAsync(RunRequest input, CancellationToken cancellationToken) =>
        (await workspace.Store.TryReadJsonAsync<DatasetSummary>(new RunLayout(input.RunId).DatasetSummary, cancellationToken))?.Value;

    protected override async Task<DatasetSummary> ComputeAsync(RunRequest input, CancellationToken cancellationToken)
    {
        var data = await workspace.LoadRunDataAsync(input, cancellationToken);
        var summary = Summarise(data, input);
        await workspace.Store.WriteJsonAsync(new RunLayout(input.RunId).DatasetSummary, summary, cancellationToken);
        return summary;
    }

    /// <summary>Checks what the algorithm needs of the data and returns its summary.</summary>
    public static DatasetSummary Summarise(RunData data, RunRequest request)
    {
        var split = data.Split;
        var train = split.Train;
        var test = split.Test;
        if (train.NumClasses < 2)
            throw new InvalidRunInputException($"dataset: {split.Name} has {train.NumClasses} class; classification needs at least 2.");
        var trainCounts = train.ClassCounts();
        var empty = Enumerable.Range(0, trainCounts.Length).Where(c => trainCounts[c] == 0).ToList();
        if (empty.Count > 0)
            throw new InvalidRunInputException($"dataset: class(es) {string.Join(", ", empty.Select(c => $"{c} '{train.ClassNames[c]}'"))} have no training samples.");
        if (test.Count == 0)
            throw new InvalidRunInputException($"dataset: {split.Name} has no test images to evaluate on.");
        if (test.NumClasses != train.NumClasses || test.Channels != train.Channels || test.Height != train.Height || test.Width != train.Width)
            throw new InvalidRunInputException($"dataset: test set ({test.NumClasses} classes, {test.Channels}x{test.Height}x{test.Width}) does not match the training set ({train.NumClasses} classes, {train.Channels}x{train.Height}x{train.Width}).");
        var validation = split.Validation;
        if (validation is not null && (validation.NumClasses != train.NumClasses || validation.Channels != train.Channels || validation.Height != train.Height || validation.Width != train.Width))
            throw new InvalidRunInputException($"dataset: validation set ({validation.NumClasses} classes, {validation.Channels}x{validation.Height}x{validation.Width}) does not match the training set ({train.NumClasses} classes, {train.Channels}x{train.Height}x{train.Width}).");
        var validationCounts = validation?.ClassCounts() ?? new int[train.NumClasses];
        // The request was checked where it was made; what needs the data is checked here, once.
        RunRequestValidation.ThrowIfAny(RunRequestValidation.ProblemsWithData(request, train.NumClasses, validationCounts.Sum() > 0));
        // Normalisation from the images Phase I trains on, never from validation or test.
        var normalization = Normalization.FromDataset(train);
        return new DatasetSummary(split.Name, train.ClassNames.ToArray(), trainCounts, test.ClassCounts(),
            train.Channels, train.Height, train.Width, normalization.Mean, normalization.Std, validationCounts, data.ValidationSource);
    }
}
