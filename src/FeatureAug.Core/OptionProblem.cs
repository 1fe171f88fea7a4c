namespace FeatureAug.Core;

/// <summary>
/// One violated rule of an options record: <see cref="Field"/> is the property's camelCase name ("tauS", "epochs"),
/// as it appears in JSON; <see cref="Message"/> says what is wrong without naming it ("must lie in (0, 1), got 1.").
/// Callers word it for their users (a CLI flag, a JSON path).
/// </summary>
public sealed record OptionProblem(string Field, string Message)
{
    public override string ToString() => $"{Field} {Message}";
}
