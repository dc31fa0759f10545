using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Optimizer.Domain.Common;
using Optimizer.Domain.Methods;

namespace Optimizer.Worker.Execution;

/// <summary>
/// Maps each job <c>(type, method)</c> to its pipeline, found by scanning for <see cref="JobPipelineAttribute"/>.
/// </summary>
/// <remarks>
/// Built once at start-up and fails fast (peft's <c>register_peft_method</c> style): a duplicate registration,
/// a pipeline whose method is not in the Domain <see cref="MethodCatalog"/>, a pipeline whose options type is not
/// the catalog's, or a catalog method that no pipeline serves all stop the worker before it takes any job —
/// otherwise the Api would accept jobs that can never run.
/// </remarks>
public sealed class PipelineRegistry
{
    private readonly Dictionary<string, PipelineEntry> _entries;

    private PipelineRegistry(Dictionary<string, PipelineEntry> entries) => _entries = entries;

    public IReadOnlyCollection<PipelineEntry> Entries => _entries.Values;

    /// <summary>Scans the worker assembly against the full catalog.</summary>
    public static PipelineRegistry Build() => Build([typeof(PipelineRegistry).Assembly], MethodCatalog.All);

    /// <summary>Scans <paramref name="types"/> and checks them against <paramref name="catalog"/>.</summary>
    /// <exception cref="InvalidOperationException">Any of the fail-fast rules above is broken.</exception>
    public static PipelineRegistry Build(IEnumerable<Type> types, IReadOnlyList<MethodDescriptor> catalog)
    {
        var entries = new Dictionary<string, PipelineEntry>();
        foreach (var type in types)
        {
            var attribute = type.GetCustomAttribute<JobPipelineAttribute>();
            if (attribute is null)
            {
                continue;
            }
            var key = $"{attribute.Type}/{attribute.Method}";
            if (type.IsAbstract || type.IsGenericTypeDefinition)
            {
                throw new InvalidOperationException($"Pipeline {type.Name} ({key}) must be a concrete class.");
            }
            var optionsType = FindOptionsType(type)
                ?? throw new InvalidOperationException($"Pipeline {type.Name} ({key}) does not implement IJobPipeline<TOptions>.");
            var descriptor = catalog.FirstOrDefault(m => m.Key == key)
                ?? throw new InvalidOperationException($"Pipeline {type.Name} serves {key}, which the Domain method catalog does not declare.");
            if (descriptor.OptionsType != optionsType)
            {
                throw new InvalidOperationException(
                    $"Pipeline {type.Name} takes {optionsType.Name} but {key} is declared with {descriptor.OptionsType.Name}.");
            }
            if (entries.TryGetValue(key, out var existing))
            {
                throw new InvalidOperationException($"Method {key} has two pipelines: {existing.PipelineType.Name} and {type.Name}.");
            }
            entries[key] = new PipelineEntry(descriptor, type);
        }
        var missing = catalog.Where(m => !entries.ContainsKey(m.Key)).Select(m => m.Key).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"No pipeline serves {string.Join(", ", missing)} (declared in the Domain method catalog).");
        }
        return new PipelineRegistry(entries);
    }

    /// <summary>Scans the types of <paramref name="assemblies"/>.</summary>
    public static PipelineRegistry Build(IEnumerable<Assembly> assemblies, IReadOnlyList<MethodDescriptor> catalog) =>
        Build(assemblies.SelectMany(a => a.GetTypes()), catalog);

    public PipelineEntry? Find(string type, string method) => _entries.GetValueOrDefault($"{type}/{method}");

    private static Type? FindOptionsType(Type pipeline) =>
        pipeline.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJobPipeline<>))
            .Select(i => i.GetGenericArguments()[0])
            .SingleOrDefault();
}

/// <summary>One registered pipeline and how to run it.</summary>
public sealed record PipelineEntry(MethodDescriptor Method, Type PipelineType)
{
    /// <summary>Creates the pipeline from <paramref name="services"/>, binds the job's params and runs it.</summary>
    public Task<PipelineResult> RunAsync(IServiceProvider services, PipelineContext context, CancellationToken cancellationToken)
    {
        var options = JsonSerializer.Deserialize(context.Job.ParamsJson, Method.OptionsType, OptimizerJson.Options)
            ?? Activator.CreateInstance(Method.OptionsType)!;
        var pipeline = ActivatorUtilities.CreateInstance(services, PipelineType);
        var invoke = typeof(PipelineEntry).GetMethod(nameof(Invoke), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(Method.OptionsType);
        return (Task<PipelineResult>)invoke.Invoke(null, [pipeline, context, options, cancellationToken])!;
    }

    private static Task<PipelineResult> Invoke<TOptions>(object pipeline, PipelineContext context, object options,
        CancellationToken cancellationToken) where TOptions : class =>
        ((IJobPipeline<TOptions>)pipeline).RunAsync(context, (TOptions)options, cancellationToken);
}
