namespace FeatureAug.Workflow.Inputs;

/// <summary>
/// Where the data comes from. Either a local directory / preset (<see cref="DataDir"/>) or a data set
/// uploaded to the artifact store under datasets/&lt;<see cref="StoreName"/>&gt;/ with its manifest.
/// <see cref="ValFraction"/> of every training class is held out as the validation split (0 = none) unless the data
/// set brings a val/ folder.
/// </summary>
public sealed record DatasetReference(
    string Kind = "fashion-mnist-lt",
    string? DataDir = null,
    string? StoreName = null,
    double ImbalanceFactor = 100,
    string Profile = "exp",
    int? MaxPerClass = null,
    int? ImageSize = null,
    int Channels = 3,
    double ValFraction = 0.1);
