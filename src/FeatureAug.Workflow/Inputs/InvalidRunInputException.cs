namespace FeatureAug.Workflow.Inputs;

/// <summary>Input a user must fix (bad data, bad options): retrying cannot help.</summary>
public sealed class InvalidRunInputException(string message, Exception? inner = null) : Exception(message, inner);
