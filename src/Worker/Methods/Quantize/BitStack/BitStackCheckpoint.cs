using Optimizer.Worker.Execution;

namespace Optimizer.Worker.Methods.Quantize.BitStack;

/// <summary>A <see cref="BitStackDecomposition"/> in a job checkpoint: every block's signs and factors, and the per-block errors.</summary>
internal static class BitStackCheckpoint
{
    public static CheckpointCodec<BitStackDecomposition> Codec { get; } = new(
        (tensors, decomposition) =>
        {
            tensors.AddArray("dims", new[] { decomposition.OutFeatures, decomposition.InFeatures, decomposition.Rank, decomposition.Blocks.Count })
                .AddArray("squared_errors", decomposition.SquaredErrors.ToArray());
            for (var i = 0; i < decomposition.Blocks.Count; i++)
            {
                var block = decomposition.Blocks[i];
                tensors.AddArray($"{i}.signs", block.Signs).AddArray($"{i}.u", block.U).AddArray($"{i}.v", block.V);
            }
        },
        saved =>
        {
            var dims = saved.ReadArray<int>("dims");
            var blocks = Enumerable.Range(0, dims[3])
                .Select(i => new BitStackBlock(saved.ReadArray<byte>($"{i}.signs"), saved.ReadArray<float>($"{i}.u"), saved.ReadArray<float>($"{i}.v")))
                .ToList();
            return new BitStackDecomposition(dims[0], dims[1], dims[2], blocks, saved.ReadArray<double>("squared_errors"));
        });
}
