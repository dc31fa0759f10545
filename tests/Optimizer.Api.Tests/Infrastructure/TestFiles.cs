using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Optimizer.Api.Tests.Infrastructure;

/// <summary>Tiny model files built in the test: safetensors from a header and data, config.json, datasets.</summary>
public static class TestFiles
{
    public static readonly byte[] LlamaConfig = Encoding.UTF8.GetBytes(
        """{"architectures":["LlamaForCausalLM"],"hidden_size":4,"torch_dtype":"float32","model_type":"llama"}""");

    /// <summary>A valid file: two F32 tensors ([2,3] and [4]) tiling 40 data bytes.</summary>
    public static byte[] ValidSafetensors() => Safetensors(
        """{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[4],"data_offsets":[24,40]},"__metadata__":{"format":"pt"}}""",
        40);

    /// <summary>8-byte little-endian length, the header bytes, then <paramref name="dataBytes"/> bytes of data.</summary>
    public static byte[] Safetensors(string header, int dataBytes) => Safetensors(Encoding.UTF8.GetBytes(header), dataBytes);

    public static byte[] Safetensors(byte[] header, int dataBytes)
    {
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        for (var i = 0; i < dataBytes; i++)
        {
            file[8 + header.Length + i] = (byte)(i * 7);
        }
        return file;
    }

    /// <summary>A file whose prefix claims <paramref name="claimedLength"/> header bytes, followed by <paramref name="rest"/>.</summary>
    public static byte[] WithPrefix(ulong claimedLength, byte[] rest)
    {
        var file = new byte[8 + rest.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, claimedLength);
        rest.CopyTo(file, 8);
        return file;
    }

    public static byte[] Jsonl(params object[] lines) =>
        Encoding.UTF8.GetBytes(string.Join('\n', lines.Select(l => JsonSerializer.Serialize(l))) + "\n");
}
