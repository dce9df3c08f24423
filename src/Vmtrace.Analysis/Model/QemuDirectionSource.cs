namespace Vmtrace.Analysis;

/// <summary>Which qemu trace events tell a VM's qemu-layer request direction and size.</summary>
internal enum QemuDirectionSource
{
    None,
    /// <summary><c>bdrv_co_io_em</c> (is_write, nb_sectors): old qemu's emulated AIO.</summary>
    BdrvCoIoEm,
    /// <summary><c>virtio_blk_handle_read</c>/<c>_write</c> (nsectors): each guest virtio-blk request.</summary>
    VirtioBlk,
    /// <summary><c>blk_co_preadv</c>/<c>blk_co_pwritev</c> (bytes): the block-backend layer, any device model.</summary>
    BlockBackend,
}
