using FeatureAug.Workflow.Models;
using FeatureAug.Workflow.Storage;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FeatureAug.Workflow;

/// <summary>Settings of the services every activity uses, whatever hosts them (CLI, Functions, tests).</summary>
public sealed record WorkflowServiceOptions
{
    /// <summary>Where artifacts live (local directory or Blob Storage).</summary>
    public ArtifactStoreOptions Store { get; init; } = new();

    /// <summary>Local scratch directory for files that TorchSharp reads and writes by path.</summary>
    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "featureaug-work");

    /// <summary>Largest training set (images) a run accepts; protects a shared worker from accidental huge uploads.</summary>
    public long MaxTrainingImages { get; init; } = 2_000_000;
}

public static class WorkflowRegistration
{
    /// <summary>The orchestrator and every activity, registered once for the Functions app, the CLI and the tests.</summary>
    public static DurableTaskRegistry AddFeatureAugTasks(this DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<FeatureAugOrchestrator>();
        registry.AddActivity<ValidateDatasetActivity>();
        registry.AddActivity<TrainBackboneActivity>();
        registry.AddActivity<ResolveChampionBackboneActivity>();
        registry.AddActivity<ExtractFeaturesActivity>();
        registry.AddActivity<PlanAugmentationActivity>();
        registry.AddActivity<FuseTailClassesActivity>();
        registry.AddActivity<FineTuneHeadActivity>();
        registry.AddActivity<EvaluateActivity>();
        registry.AddActivity<PromoteActivity>();
        return registry;
    }

    /// <summary>The artifact store, run workspace, model registry, progress hub and stage services the activities need.</summary>
    public static IServiceCollection AddFeatureAugWorkflow(this IServiceCollection services, WorkflowServiceOptions options)
    {
        services.TryAddSingleton(options);
        services.TryAddSingleton<IArtifactStore>(_ => ArtifactStoreFactory.Create(options.Store));
        services.TryAddSingleton<RunWorkspace>();
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<RunProgressHub>();
        services.TryAddSingleton<ActivityExecutionLog>();
        services.TryAddSingleton<StageServices>();
        // At host shutdown, waits for the activity bodies the shutdown cancelled to unwind (see StageServices).
        services.AddHostedService(provider => provider.GetRequiredService<StageServices>());
        return services;
    }
}
