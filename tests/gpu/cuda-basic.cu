// A small CUDA workload for checking GPU sandboxes on a real GPU: cuInit
// (driver API, error reported by name), device count, a vector addition
// checked on the host, and threads named from another thread, which opens
// /proc/self/task/<tid>/comm read-write. Prints
// LOCKSHELL_GPU_WORKLOAD_SUCCESS cuda-basic only when every step worked.
//
// Build: nvcc -O2 -o cuda-basic cuda-basic.cu -lcuda
#include <cuda.h>
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VECTOR_LEN 100000
#define WORKERS	   3

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	printf("LOCKSHELL_GPU_WORKLOAD_FAILURE ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 1;
}

static const char *driver_error_name(CUresult r)
{
	const char *name = NULL;

	if (cuGetErrorName(r, &name) != CUDA_SUCCESS || !name)
		return "unknown error";
	return name;
}

static int check_driver(void)
{
	CUresult r = cuInit(0);
	int version = 0, count = 0;

	if (r != CUDA_SUCCESS)
		return fail("cuInit returned %d (%s)%s", (int)r, driver_error_name(r),
			    r == CUDA_ERROR_OPERATING_SYSTEM
				    ? ": thread naming through /proc/<pid>/task/<tid>/comm was "
				      "probably denied"
				    : "");
	printf("cuInit: CUDA_SUCCESS\n");
	if (cuDriverGetVersion(&version) == CUDA_SUCCESS)
		printf("driver API version: %d.%d\n", version / 1000, version % 1000 / 10);
	r = cuDeviceGetCount(&count);
	if (r != CUDA_SUCCESS)
		return fail("cuDeviceGetCount returned %d (%s)", (int)r, driver_error_name(r));
	if (count < 1)
		return fail("cuDeviceGetCount found no device");
	for (int i = 0; i < count; i++) {
		CUdevice dev;
		char name[256] = "";
		if (cuDeviceGet(&dev, i) == CUDA_SUCCESS &&
		    cuDeviceGetName(name, (int)sizeof(name), dev) == CUDA_SUCCESS)
			printf("device %d: %s\n", i, name);
	}
	return 0;
}

__global__ void vector_add(const float *a, const float *b, float *c, int n)
{
	int i = blockDim.x * blockIdx.x + threadIdx.x;

	if (i < n)
		c[i] = a[i] + b[i];
}

static int runtime_failed(const char *what, cudaError_t e)
{
	return fail("%s returned %d (%s: %s)", what, (int)e, cudaGetErrorName(e),
		    cudaGetErrorString(e));
}

static int copy_and_add(float *ha, float *hb, float *hc, float *da, float *db, float *dc)
{
	size_t bytes = VECTOR_LEN * sizeof(float);
	cudaError_t e;

	if ((e = cudaMemcpy(da, ha, bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
	    (e = cudaMemcpy(db, hb, bytes, cudaMemcpyHostToDevice)) != cudaSuccess)
		return runtime_failed("cudaMemcpy to the device", e);
	vector_add<<<(VECTOR_LEN + 255) / 256, 256>>>(da, db, dc, VECTOR_LEN);
	if ((e = cudaGetLastError()) != cudaSuccess)
		return runtime_failed("the vector_add launch", e);
	if ((e = cudaMemcpy(hc, dc, bytes, cudaMemcpyDeviceToHost)) != cudaSuccess)
		return runtime_failed("cudaMemcpy to the host", e);
	for (int i = 0; i < VECTOR_LEN; i++)
		if (hc[i] != ha[i] + hb[i])
			return fail("vector addition wrong at %d: %f + %f gave %f", i, ha[i],
				    hb[i], hc[i]);
	printf("vector addition of %d elements: Test PASSED\n", VECTOR_LEN);
	return 0;
}

static int check_vector_add(void)
{
	size_t bytes = VECTOR_LEN * sizeof(float);
	float *ha = (float *)malloc(bytes), *hb = (float *)malloc(bytes),
	      *hc = (float *)malloc(bytes);
	float *da = NULL, *db = NULL, *dc = NULL;
	int count = 0, rc;
	cudaError_t e;

	if (!ha || !hb || !hc)
		return fail("out of host memory");
	for (int i = 0; i < VECTOR_LEN; i++) {
		ha[i] = (float)(i % 1000) * 0.5f;
		hb[i] = (float)(i % 777) * 2.0f;
	}
	if ((e = cudaGetDeviceCount(&count)) != cudaSuccess)
		rc = runtime_failed("cudaGetDeviceCount", e);
	else if ((e = cudaMalloc((void **)&da, bytes)) != cudaSuccess ||
		 (e = cudaMalloc((void **)&db, bytes)) != cudaSuccess ||
		 (e = cudaMalloc((void **)&dc, bytes)) != cudaSuccess)
		rc = runtime_failed("cudaMalloc", e);
	else
		rc = copy_and_add(ha, hb, hc, da, db, dc);
	if (rc == 0)
		printf("cudaGetDeviceCount: %d\n", count);
	cudaFree(da);
	cudaFree(db);
	cudaFree(dc);
	free(ha);
	free(hb);
	free(hc);
	return rc;
}

static pthread_barrier_t started, named;

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&started);
	pthread_barrier_wait(&named);
	return NULL;
}

// Names each worker from the main thread: glibc then opens
// /proc/self/task/<tid>/comm with O_RDWR, as CUDA does during cuInit.
static int name_workers(const pthread_t *threads)
{
	for (int i = 0; i < WORKERS; i++) {
		char want[16], got[16] = "";
		snprintf(want, sizeof(want), "ls-worker-%d", i);
		int r = pthread_setname_np(threads[i], want);
		if (r != 0)
			return fail("pthread_setname_np on another thread: %s (writing "
				    "/proc/self/task/<tid>/comm)",
				    strerror(r));
		r = pthread_getname_np(threads[i], got, sizeof(got));
		if (r != 0)
			return fail("pthread_getname_np: %s", strerror(r));
		if (strcmp(want, got) != 0)
			return fail("thread named '%s' reads back as '%s'", want, got);
	}
	printf("named %d threads from another thread\n", WORKERS);
	return 0;
}

static int check_thread_names(void)
{
	pthread_t threads[WORKERS];
	int rc;

	pthread_barrier_init(&started, NULL, WORKERS + 1);
	pthread_barrier_init(&named, NULL, WORKERS + 1);
	for (int i = 0; i < WORKERS; i++)
		if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
			return fail("pthread_create failed");
	pthread_barrier_wait(&started);
	rc = name_workers(threads);
	pthread_barrier_wait(&named);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(threads[i], NULL);
	return rc;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (check_driver() != 0 || check_vector_add() != 0 || check_thread_names() != 0)
		return 1;
	printf("LOCKSHELL_GPU_WORKLOAD_SUCCESS cuda-basic\n");
	return 0;
}
