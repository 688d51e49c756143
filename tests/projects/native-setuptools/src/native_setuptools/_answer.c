#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sys/random.h> /* getrandom: a glibc 2.25 symbol, so __glibc has something to say */

#include <answer.h>

static PyObject *py_answer(PyObject *self, PyObject *args) { return PyLong_FromLong(answer()); }

static PyObject *py_entropy(PyObject *self, PyObject *args) {
    unsigned char buffer[8];
    return PyLong_FromSsize_t(getrandom(buffer, sizeof buffer, 0));
}

static PyMethodDef methods[] = {
    {"answer", py_answer, METH_NOARGS, "libanswer's answer()"},
    {"entropy", py_entropy, METH_NOARGS, "bytes getrandom() gave"},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_answer", NULL, -1, methods};
PyMODINIT_FUNC PyInit__answer(void) { return PyModule_Create(&module); }
