using System.Runtime.CompilerServices;

// The deterministic cores of fusion and batch composition are tested directly with hand-made draws.
[assembly: InternalsVisibleTo("FeatureAug.Core.Tests")]
