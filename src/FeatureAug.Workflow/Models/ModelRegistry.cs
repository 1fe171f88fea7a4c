using FeatureAug.Workflow.Inputs;
using FeatureAug.Workflow.Storage;

namespace FeatureAug.Workflow.Models;

/// <summary>
/// A registered production classifier: what it is, what data rebalances it, and whether nightly.
/// <see cref="BackbonePath"/> names a backbone brought from elsewhere (safetensors or PyTorch state_dict)
/// that Rebalance runs use until the model has a champion.
/// </summary>
public sealed record ModelRecord(
    string Name,
    string Architecture,
    int InputChannels,
    IReadOnlyList<string> Classes,
    DatasetReference Dataset,
    bool NightlyRebalance,
    DateTimeOffset RegisteredUtc,
    string? BackbonePath = null);

/// <summary>The model's current champion: the backbone and head it serves, and their balanced accuracy.</summary>
public sealed record ChampionPointer(
    int Version,
    string RunId,
    string BackbonePath,
    string HeadPath,
    string ModelPath,
    string Method,
    double Top1,
    DateTimeOffset PromotedUtc)
{
    /// <summary>How the head was made ("lr 0.01, 3200 iterations (best of 9 on validation)"); null for older records.</summary>
    public string? Configuration { get; init; }

    /// <summary>Why the run put this head forward (best on validation, or named by the request); null for older records.</summary>
    public string? ChosenBecause { get; init; }
}

/// <summary>The champion's balanced accuracy measured on the challenger's held-out data.</summary>
public sealed record ChampionEvaluation(string RunId, double Top1);

/// <summary>One entry of a model's history: every promotion and rollback, appended, never rewritten.</summary>
public sealed record PromotionRecord(
    int Version,
    string Action,
    ChampionPointer Champion,
    ChampionPointer? Previous,
    string Reason,
    DateTimeOffset Utc);

/// <summary>
/// Registered models and their champions in the artifact store (models/&lt;name&gt;/). The champion pointer
/// is only ever replaced by a conditional write on its ETag, so two concurrent promotions cannot both
/// win; every change is appended to the history so the previous champion stays available for rollback.
/// </summary>
public sealed class ModelRegistry(IArtifactStore store)
{
    private const string RecordFile = "model.json";

    public async Task RegisterAsync(ModelRecord record, CancellationToken cancellationToken)
    {
        string path = ArtifactPath.Combine(ArtifactPath.Model(record.Name), RecordFile);
        await store.WriteJsonAsync(path, record, cancellationToken);
    }

    public async Task<ModelRecord?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var document = await store.TryReadJsonAsync<ModelRecord>(ArtifactPath.Combine(ArtifactPath.Model(name), RecordFile), cancellationToken);
        return document?.Value;
    }

    /// <summary>Every registered model, by name.</summary>
    public async Task<IReadOnlyList<ModelRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var paths = await store.ListAsync(ArtifactPath.ModelsRoot, cancellationToken);
        var records = new List<ModelRecord>();
        foreach (string path in paths.Where(p => p.EndsWith("/" + RecordFile, StringComparison.Ordinal) && p.Count(ch => ch == '/') == 2))
        {
            var record = await store.TryReadJsonAsync<ModelRecord>(path, cancellationToken);
            if (record is not null) records.Add(record.Value);
        }
        return records.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    public async Task<ChampionPointer?> GetChampionAsync(string name, CancellationToken cancellationToken) =>
        (await store.TryReadJsonAsync<ChampionPointer>(ArtifactPath.ModelChampion(name), cancellationToken))?.Value;

    /// <summary>The model's history, oldest first.</summary>
    public async Task<IReadOnlyList<PromotionRecord>> HistoryAsync(string name, CancellationToken cancellationToken)
    {
        var paths = await store.ListAsync(ArtifactPath.ModelHistory(name), cancellationToken);
        var history = new List<PromotionRecord>();
        foreach (string path in paths)
            history.Add(await store.ReadJsonAsync<PromotionRecord>(path, cancellationToken));
        return history.OrderBy(h => h.Version).ToList();
    }

    /// <summary>
    /// Makes <paramref name="challenger"/> the champion when there is none, or when its Top1 beats the
    /// champion's by more than <paramref name="margin"/>. The champion's figure is
    /// <paramref name="championToday"/> when that measured the current champion on the same held-out data,
    /// else the figure recorded at its promotion. Races are settled by the pointer's ETag: a loser
    /// re-reads the pointer and decides again against the new champion.
    /// </summary>
    public async Task<PromotionDecision> TryPromoteAsync(
        string name, ChampionPointer challenger, double margin, ChampionEvaluation? championToday, CancellationToken cancellationToken)
    {
        if (!double.IsFinite(challenger.Top1))
            return new PromotionDecision(false, null, challenger.Top1, margin, "challenger accuracy is not a number");
        string pointerPath = ArtifactPath.ModelChampion(name);
        while (true)
        {
            var current = await store.TryReadJsonAsync<ChampionPointer>(pointerPath, cancellationToken);
            if (current is not null && current.Value.RunId == challenger.RunId)
                return new PromotionDecision(true, current.Value.Top1, challenger.Top1, margin, "this run is already the champion");
            double? championTop1 = current is null ? null
                : championToday is not null && championToday.RunId == current.Value.RunId ? championToday.Top1 : current.Value.Top1;
            if (current is not null && challenger.Top1 <= championTop1 + margin)
            {
                return new PromotionDecision(false, championTop1, challenger.Top1, margin,
                    $"challenger {challenger.Top1:P2} does not beat champion {championTop1:P2} by more than {margin:P2}");
            }

            var next = challenger with { Version = (current?.Value.Version ?? 0) + 1, PromotedUtc = DateTimeOffset.UtcNow };
            var condition = current is null ? WriteCondition.IfNotExists : WriteCondition.IfMatch(current.ETag);
            if (!await store.TryWriteJsonIfMatchAsync(pointerPath, next, condition, cancellationToken))
                continue; // someone else promoted meanwhile: decide again against their champion

            string reason = current is null
                ? "first champion of this model"
                : $"challenger {challenger.Top1:P2} beats champion {championTop1:P2} by more than {margin:P2}";
            await AppendHistoryAsync(name, new PromotionRecord(next.Version, "promote", next, current?.Value, reason, next.PromotedUtc), cancellationToken);
            return new PromotionDecision(true, championTop1, challenger.Top1, margin, reason);
        }
    }

    /// <summary>Restores the champion that the current one replaced; the rollback itself is recorded in the history.</summary>
    public async Task<ChampionPointer> RollbackAsync(string name, CancellationToken cancellationToken)
    {
        string pointerPath = ArtifactPath.ModelChampion(name);
        while (true)
        {
            var current = await store.TryReadJsonAsync<ChampionPointer>(pointerPath, cancellationToken)
                ?? throw new InvalidOperationException($"Model '{name}' has no champion to roll back.");
            var history = await HistoryAsync(name, cancellationToken);
            var entry = history.LastOrDefault(h => h.Champion.Version == current.Value.Version)
                ?? throw new InvalidOperationException($"Model '{name}': no history entry for champion version {current.Value.Version}.");
            var previous = entry.Previous
                ?? throw new InvalidOperationException($"Model '{name}': champion version {current.Value.Version} has no predecessor to roll back to.");
            var restored = previous with { Version = current.Value.Version + 1, PromotedUtc = DateTimeOffset.UtcNow };
            if (!await store.TryWriteJsonIfMatchAsync(pointerPath, restored, WriteCondition.IfMatch(current.ETag), cancellationToken))
                continue;
            // The predecessor of the restored pointer is whatever preceded the version we restored.
            var restoredEntry = history.LastOrDefault(h => h.Champion.RunId == previous.RunId && h.Champion.Version == previous.Version);
            await AppendHistoryAsync(name, new PromotionRecord(restored.Version, "rollback", restored, restoredEntry?.Previous,
                $"rolled back from run {current.Value.RunId} to run {previous.RunId}", restored.PromotedUtc), cancellationToken);
            return restored;
        }
    }

    private Task AppendHistoryAsync(string name, PromotionRecord record, CancellationToken cancellationToken) =>
        store.WriteJsonAsync(ArtifactPath.Combine(ArtifactPath.ModelHistory(name), $"{record.Version:D6}.json"), record, cancellationToken);
}

public sealed record PromotionDecision(bool Promoted, double? ChampionTop1, double ChallengerTop1, double Margin, string Reason);
