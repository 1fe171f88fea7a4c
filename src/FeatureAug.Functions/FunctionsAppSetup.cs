using FeatureAug.Workflow;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace FeatureAug.Functions;

/// <summary>Wires the workflow into the Functions worker; Program.cs and the tests call the same code.</summary>
public static class FunctionsAppSetup
{
    /// <summary>
    /// Registers the settings, the workflow services (artifact store, model registry, workspace) and the
    /// Durable worker with the orchestrator and activity classes the CLI and the tests use.
    /// <para>
    /// No [Function] wrappers are written for those classes: Microsoft.Azure.Functions.Worker.Extensions.DurableTask
    /// (1.21) reports every task in the worker's <see cref="Microsoft.DurableTask.DurableTaskRegistry"/> to the host as an
    /// orchestrationTrigger / activityTrigger function (its DurableMetadataTransformer, an IFunctionMetadataTransformer
    /// applied when the host indexes the worker) and runs them from the registry (DurableFunctionExecutor's direct path).
    /// Wrappers with the same names would be duplicate functions.
    /// </para>
    /// </summary>
    public static FunctionsApplicationBuilder AddFeatureAugFunctions(this FunctionsApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = FunctionsAppSettings.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(settings.RunDefaults);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddFeatureAugWorkflow(settings.Workflow);
        builder.ConfigureDurableWorker().AddTasks(registry => registry.AddFeatureAugTasks());
        return builder;
    }
}
