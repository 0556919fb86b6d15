//! The native backend's memory: one range of address space reserved once (committed page by page
//! by the OS as it is touched) and shown to JavaScript as one external ArrayBuffer, so the
//! TypeScript side makes its views exactly as over a WebAssembly memory. Buffers are handed out
//! by a general-purpose allocator (talc) over the part of the range in use, which grows like a
//! WebAssembly memory and never shrinks. Addresses given to JavaScript are byte offsets from the
//! start of the range; offset 0 is never handed out ("none").

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::Mutex;
use talc::base::Talc;
use talc::source::Manual;
use talc::DefaultBinning;

const ALIGN: usize = 16;
/// The heap grows in steps of at least this much (64 MiB).
const STEP: usize = 64 << 20;
/// Sizes tried for the reservation, largest first (virtual address space only). 4 GiB is the
/// largest ArrayBuffer Node 20 accepts (and what a wasm32 memory can address).
const RESERVE: [usize; 4] = [4 << 30, 1 << 30, 256 << 20, 64 << 20];

struct Heap {
    talc: Talc<Manual, DefaultBinning>,
    /// End of the part of the range given to the allocator (None before the first allocation).
    end: Option<NonNull<u8>>,
}

// The allocator's raw pointers only ever point into the arena, and every use is under the mutex.
unsafe impl Send for Heap {}

pub struct Arena {
    base: *mut u8,
    size: usize,
    heap: Mutex<Heap>,
}

unsafe impl Send for Arena {}
unsafe impl Sync for Arena {}

impl Arena {
    /// Reserves the largest range the OS grants (MAP_NORESERVE: no memory is committed yet).
    pub fn reserve() -> Result<Arena, String> {
        let mut last = 0;
        for size in RESERVE {
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    size,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                let heap = Heap { talc: Talc::new(Manual), end: None };
                return Ok(Arena { base: p.cast(), size, heap: Mutex::new(heap) });
            }
            last = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        }
        Err(format!("could not reserve address space for the arena (mmap errno {last})"))
    }

    pub fn base(&self) -> *mut u8 {
        self.base
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes of the range given to the allocator so far (grows, never shrinks).
    pub fn used(&self) -> usize {
        let h = self.heap.lock().unwrap();
        h.end.map_or(0, |e| e.as_ptr() as usize - self.base as usize)
    }

    /// `bytes` zeroed bytes, 16-byte aligned: the offset from the base, or 0 when the range is exhausted.
    pub fn alloc(&self, bytes: usize) -> usize {
        if bytes == 0 {
            return 0;
        }
        let Ok(layout) = Layout::from_size_align(bytes, ALIGN) else { return 0 };
        let mut h = self.heap.lock().unwrap();
        loop {
            if let Some(p) = unsafe { h.talc.allocate(layout) } {
                // freed memory is reused, so zero what is handed out (as `alloc_zeroed` does in wasm)
                unsafe { std::ptr::write_bytes(p.as_ptr(), 0, bytes) };
                return p.as_ptr() as usize - self.base as usize;
            }
            if !self.grow(&mut h, bytes) {
                return 0;
            }
        }
    }

    /// Returns a buffer from `alloc(bytes)` (same size).
    pub fn free(&self, offset: usize, bytes: usize) {
        if offset == 0 || bytes == 0 {
            return;
        }
        let layout = Layout::from_size_align(bytes, ALIGN).expect("layout");
        let mut h = self.heap.lock().unwrap();
        unsafe { h.talc.deallocate(self.base.add(offset), layout) };
    }

    /// Forgets every buffer and gives the pages back to the OS (the next allocation starts afresh,
    /// as a new WebAssembly instance does). The caller guarantees no buffer is in use.
    pub fn reset(&self) {
        let mut h = self.heap.lock().unwrap();
        if let Some(end) = h.end {
            let used = end.as_ptr() as usize - self.base as usize;
            unsafe { libc::madvise(self.base.cast(), used, libc::MADV_DONTNEED) };
        }
        *h = Heap { talc: Talc::new(Manual), end: None };
    }

    /// Gives the allocator more of the range: at least `need` bytes plus room for its bookkeeping,
    /// and at least as much again as it has (as a WebAssembly memory grows). False when exhausted.
    fn grow(&self, h: &mut Heap, need: usize) -> bool {
        let top = self.base as usize + self.size;
        match h.end {
            None => {
                let want = (need + need / 8 + (1 << 20)).max(STEP).min(self.size - ALIGN);
                // the heap starts one alignment step in: no buffer ever gets offset 0
                match unsafe { h.talc.claim(self.base.add(ALIGN), want) } {
                    Some(end) => {
                        h.end = Some(end);
                        true
                    }
                    None => false,
                }
            }
            Some(end) => {
                let cur = end.as_ptr() as usize;
                if cur + ALIGN * 64 >= top {
                    return false;
                }
                let have = cur - self.base as usize;
                let grow = (need + need / 8 + (1 << 20)).max(STEP).max(have);
                let new_end = (cur.saturating_add(grow)).min(top);
                let e = unsafe { h.talc.extend(end, new_end as *mut u8) };
                let grew = e.as_ptr() as usize > cur;
                h.end = Some(e);
                grew
            }
        }
    }
}
