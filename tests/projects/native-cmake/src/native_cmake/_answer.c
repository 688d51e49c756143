#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <answer.h>

static PyObject *py_answer(PyObject *self, PyObject *args) { return PyLong_FromLong(answer()); }

static PyMethodDef methods[] = {{"answer", py_answer, METH_NOARGS, "libanswer's answer()"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_answer", NULL, -1, methods};
PyMODINIT_FUNC PyInit__answer(void) { return PyModule_Create(&module); }
