using FeatureAug.Testing;

namespace FeatureAug.Cli.Tests;

/// <summary>See <see cref="TestCollections.BitExact"/>.</summary>
[CollectionDefinition(TestCollections.BitExact, DisableParallelization = true)]
public sealed class BitExactCollection;
