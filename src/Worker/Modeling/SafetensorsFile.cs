using System.Diagnostics.CodeAnalysis;
using System.IO.MemoryMappedFiles;
using Optimizer.Domain.Formats.Safetensors;
using Optimizer.Kernels.Codecs;
using TorchSharp;
using static TorchSharp.torch;

namespace Optimizer.Worker.Modeling;

/// <summary>
/// A validated, memory-mapped safetensors file. Tensors are read on demand: <see cref="ReadTensor"/> copies
/// one tensor into a new TorchSharp tensor, <see cref="GetBytes"/> exposes its raw little-endian bytes.
/// </summary>
/// <remarks>
/// The header is validated with <see cref="SafetensorsHeader"/> (which checks that tensors tile the data
/// section exactly), so reads need no further bounds checks. Reads are thread-safe; spans from
/// <see cref="GetBytes"/> are valid only until the file is disposed.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly Dictionary<string, TensorEntry> _byName;
    private bool _disposed;

    private SafetensorsFile(string path, SafetensorsHeader header, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePointer)
    {
        Path = path;
        Header = header;
        _map = map;
        _view = view;
        _base = basePointer;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path { get; }
    public SafetensorsHeader Header { get; }
    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<TensorEntry> Tensors => Header.Tensors;
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>Opens and validates a safetensors file; throws <see cref="SafetensorsFormatException"/> when it is malformed.</summary>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        long fileLength;
        SafetensorsHeader header;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            fileLength = stream.Length;
            Span<byte> prefix = stackalloc byte[8];
            var read = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
            var headerLength = SafetensorsHeader.ReadHeaderLength(prefix[..read], fileLength);
            var json = new byte[headerLength];
            stream.ReadExactly(json);
            header = SafetensorsHeader.Parse(json, fileLength - 8 - headerLength);
        }
        if (header.DataLength == 0)
        {
            // Nothing to map (only empty tensors); mapping a region of length 0 is not allowed.
            return new SafetensorsFile(path, header, null, null, null);
        }
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset + header.DataStart;
            return new SafetensorsFile(path, header, map, view, pointer);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGetEntry(string name, [NotNullWhen(true)] out TensorEntry? entry) => _byName.TryGetValue(name, out entry);

    public TensorEntry GetEntry(string name) =>
        _byName.TryGetValue(name, out var entry)
            ? entry
            : throw new KeyNotFoundException($"tensor '{name}' is not in {Path}");

    /// <summary>The raw bytes of a tensor (at most 2 GiB); valid until this file is disposed.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var entry = GetEntry(name);
        if (entry.ByteLength > int.MaxValue)
        {
            throw new NotSupportedException($"tensor '{name}' is {entry.ByteLength} bytes; use ReadTensor for tensors over 2 GiB");
        }
        return new ReadOnlySpan<byte>(DataPointer(entry), (int)entry.ByteLength);
    }

    /// <summary>A copy of the raw bytes of a tensor.</summary>
    public byte[] ReadBytes(string name) => GetBytes(name).ToArray();

    /// <summary>
    /// Reads a tensor into a new CPU TorchSharp tensor of its own dtype (see <see cref="SafetensorsDtypeMapping.ToTorch"/>);
    /// FP8 tensors are decoded exactly to float32.
    /// </summary>
    public Tensor ReadTensor(string name)
    {
        var entry = GetEntry(name);
        var tensor = torch.empty(entry.Shape, entry.Dtype.ToTorch());
        try
        {
            if (entry.ByteLength == 0)
            {
                return tensor;
            }
            var source = DataPointer(entry);
            var destination = (void*)TensorMemory.DataPointer(tensor);
            if (entry.Dtype.IsFp8())
            {
                var format = entry.Dtype == SafetensorsDtype.F8_E4M3 ? Fp8Format.E4M3 : Fp8Format.E5M2;
                var floats = (float*)destination;
                for (long offset = 0; offset < entry.ByteLength; offset += int.MaxValue)
                {
                    var count = (int)Math.Min(int.MaxValue, entry.ByteLength - offset);
                    Fp8.Decode(new ReadOnlySpan<byte>(source + offset, count), format, new Span<float>(floats + offset, count));
                }
            }
            else
            {
                Buffer.MemoryCopy(source, destination, entry.ByteLength, entry.ByteLength);
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private byte* DataPointer(TensorEntry entry)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _base + entry.Begin;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
