using Optimizer.Worker.Execution;
using Optimizer.Worker.Modeling;
using Optimizer.Worker.Modeling.Architectures.Llama;
using static TorchSharp.torch;

namespace Optimizer.Worker.Calibration;

/// <summary>The float model and token windows a calibrating method starts from (<see cref="LoadAsync"/>); disposes both.</summary>
public sealed record CalibrationInputs(LlamaForCausalLM Model, Tensor Windows) : IDisposable
{
    /// <summary>
    /// The opening every calibrating pipeline shares: loads the job's calibration text (<see cref="CalibrationData.LoadTextAsync"/>),
    /// builds the float model of <paramref name="folder"/>, cuts <paramref name="samples"/> windows of <paramref name="seqLen"/>
    /// tokens, and emits the "calibrate" event (with <paramref name="detail"/> appended, e.g. " (correction gptaq)").
    /// </summary>
    public static async Task<CalibrationInputs> LoadAsync(IDatasetText datasets, PipelineContext context, ModelFolder folder,
        int samples, int seqLen, string method, CancellationToken cancellationToken, string detail = "")
    {
        var text = await CalibrationData.LoadTextAsync(datasets, context, cancellationToken);
        var model = CalibrationData.LoadModel(folder, method);
        try
        {
            var windows = await Task.Run(() => CalibrationData.Windows(context.Source.LocalDir, text, samples, seqLen,
                model.Config.MaxPositionEmbeddings, method), cancellationToken);
            await context.Progress.EventAsync("info", "calibrate",
                $"Calibrating on {windows.shape[0]} windows of {windows.shape[1]} tokens{detail}.", null, cancellationToken);
            return new CalibrationInputs(model, windows);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Windows.Dispose();
        Model.Dispose();
    }
}
