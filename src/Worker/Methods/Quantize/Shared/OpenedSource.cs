using Optimizer.Worker.Modeling;

namespace Optimizer.Worker.Methods.Quantize.Shared;

/// <summary>A weight-only quantizer's opened source folder and its linear plan (<see cref="QuantizedCheckpoint.OpenAsync"/>).</summary>
public sealed record OpenedSource(ModelFolder Folder, LinearPlan Plan) : IDisposable
{
    public void Dispose() => Folder.Dispose();
}
