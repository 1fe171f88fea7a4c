namespace FeatureAug.Workflow; internal static class AssemblyMarker { }
