namespace Optimizer.Api.Uploads;

/// <summary>Removes what a refused upload already wrote.</summary>
public static class UploadCleanup
{
    /// <summary>
    /// Deletes every blob under <paramref name="prefix"/>. A failure here is logged, not thrown, so the caller still
    /// answers with the upload's own error (and the orphaned prefix is named in the log for manual removal).
    /// </summary>
    public static async Task DeleteQuietlyAsync(IArtifactStore store, string prefix, ILogger logger)
    {
        try
        {
            // The client may be gone; clean-up must still run, hence no request token.
            await store.DeletePrefixAsync(prefix, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not delete blobs under {Prefix} after a refused upload", prefix);
        }
    }
}
