/*
 * bcryptprimitives.dll for Wine 8, which lacks ProcessPrng: Go 1.24 and
 * later load it from System32 at start and stop with "bcryptprimitives.dll
 * not found" without it. It fills the buffer from RtlGenRandom
 * (SystemFunction036 in advapi32), which Wine has, in chunks that fit its
 * ULONG length. Tests only: never shipped with Cashbell.
 *
 * x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}
