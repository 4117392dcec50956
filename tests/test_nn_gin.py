"""The GIN keeps pretrain-gnns' parameter layout and computes what that implementation computes."""

import torch
from rdkit import Chem
from torch import nn
from torch_geometric.nn import MessagePassing, global_mean_pool
from torch_geometric.utils import add_self_loops

from workbench.featurizers import GraphBatch, mol_to_graph
from workbench.nn import GIN, GINPredictor, masked_bce_loss, masked_mse_loss


class ReferenceGINConv(MessagePassing):
    """pretrain-gnns' GINConv (Hu et al. 2020, chem/model.py), re-typed here as the reference."""

    def __init__(self, emb_dim):
        super().__init__(aggr="add")
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(), nn.Linear(2 * emb_dim, emb_dim))
        self.edge_embedding1 = nn.Embedding(6, emb_dim)
        self.edge_embedding2 = nn.Embedding(3, emb_dim)

    def forward(self, x, edge_index, edge_attr):
        edge_index = add_self_loops(edge_index, num_nodes=x.size(0))[0]
        self_loop_attr = torch.zeros(x.size(0), 2, dtype=edge_attr.dtype)
        self_loop_attr[:, 0] = 4
        edge_attr = torch.cat((edge_attr, self_loop_attr), dim=0)
        edge_embeddings = self.edge_embedding1(edge_attr[:, 0]) + self.edge_embedding2(edge_attr[:, 1])
        return self.propagate(edge_index, x=x, edge_attr=edge_embeddings)

    def message(self, x_j, edge_attr):
        return x_j + edge_attr

    def update(self, aggr_out):
        return self.mlp(aggr_out)


class ReferenceGNN(nn.Module):
    def __init__(self, num_layer=5, emb_dim=300):
        super().__init__()
        self.num_layer = num_layer
        self.x_embedding1 = nn.Embedding(120, emb_dim)
        self.x_embedding2 = nn.Embedding(3, emb_dim)
        self.gnns = nn.ModuleList([ReferenceGINConv(emb_dim) for _ in range(num_layer)])
        self.batch_norms = nn.ModuleList([nn.BatchNorm1d(emb_dim) for _ in range(num_layer)])

    def forward(self, x, edge_index, edge_attr):
        h = self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])
        for layer in range(self.num_layer):
            h = self.batch_norms[layer](self.gnns[layer](h, edge_index, edge_attr))
            if layer < self.num_layer - 1:
                h = torch.relu(h)
        return h


def batch_of(smiles):
    return GraphBatch.from_graphs([mol_to_graph(Chem.MolFromSmiles(s)) for s in smiles])


def test_state_dict_in_pretrain_gnns_layout_loads_unchanged_and_matches():
    torch.manual_seed(0)
    reference = ReferenceGNN(num_layer=5, emb_dim=32)
    for norm in reference.batch_norms:  # non-trivial running statistics
        norm.running_mean.uniform_(-0.5, 0.5)
        norm.running_var.uniform_(0.5, 2.0)
    state = reference.state_dict()
    assert "gnns.0.mlp.0.weight" in state and "batch_norms.4.running_var" in state
    ours = GIN(num_layer=5, emb_dim=32, drop_ratio=0.0)
    ours.load_state_dict(state, strict=True)  # same key names, nothing missing or extra
    batch = batch_of(["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+]", "F/C=C/F"])
    reference.eval()
    ours.eval()
    expected = reference(batch.x, batch.edge_index, batch.edge_attr)
    got = ours(batch.x, batch.edge_index, batch.edge_attr)
    assert torch.allclose(got, expected, atol=1e-5)


def test_graph_predictor_uses_graphpred_keys_and_mean_pooling():
    torch.manual_seed(1)
    model = GINPredictor(n_tasks=3, num_layer=2, emb_dim=16, drop_ratio=0.0).eval()
    keys = set(model.state_dict())
    assert {"gnn.x_embedding1.weight", "graph_pred_linear.weight", "graph_pred_linear.bias"} <= keys
    batch = batch_of(["CCO", "c1ccccc1"])
    out = model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
    nodes = model.gnn(batch.x, batch.edge_index, batch.edge_attr)
    expected = model.graph_pred_linear(global_mean_pool(nodes, batch.batch))
    assert out.shape == (2, 3) and torch.allclose(out, expected, atol=1e-6)


def test_encoder_weights_load_with_or_without_prefix():
    source = GIN(num_layer=2, emb_dim=8)
    model = GINPredictor(n_tasks=1, num_layer=2, emb_dim=8)
    model.load_encoder(source.state_dict())
    assert torch.equal(model.gnn.x_embedding1.weight, source.x_embedding1.weight)
    prefixed = GIN(num_layer=2, emb_dim=8)
    model.load_encoder({"gnn." + k: v for k, v in prefixed.state_dict().items()})
    assert torch.equal(model.gnn.x_embedding1.weight, prefixed.x_embedding1.weight)
    assert not torch.equal(prefixed.x_embedding1.weight, source.x_embedding1.weight)  # a second, different encoder


def test_jumping_knowledge_concat_widens_the_output():
    model = GINPredictor(n_tasks=1, num_layer=3, emb_dim=8, jk="concat")
    assert model.graph_pred_linear.in_features == 32


def test_masked_losses_ignore_missing_labels():
    logits = torch.tensor([[10.0, -3.0], [0.0, 5.0]])
    targets = torch.tensor([[1.0, float("nan")], [float("nan"), 1.0]])
    full = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([10.0, 5.0]), torch.tensor([1.0, 1.0]))
    assert torch.allclose(masked_bce_loss(logits, targets), full)
    assert masked_mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([float("nan"), 4.0])).item() == 4.0
    empty = masked_bce_loss(logits, torch.full((2, 2), float("nan")))
    assert empty.item() == 0.0


def test_inference_fast_path_equals_the_per_edge_sum():
    torch.manual_seed(0)
    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]", "C", "C1CC1N", "O=C=O"]
    batch = GraphBatch.from_graphs([mol_to_graph(Chem.MolFromSmiles(s)) for s in smiles])
    model = GIN(num_layer=3, emb_dim=32, drop_ratio=0.0).eval()
    with torch.enable_grad():
        slow = model(batch.x, batch.edge_index, batch.edge_attr).detach()
    with torch.inference_mode():
        fast = model(batch.x, batch.edge_index, batch.edge_attr)
    assert torch.allclose(slow, fast, atol=1e-5)
    # a graph without any bond goes through the fast path too
    lone = mol_to_graph(Chem.MolFromSmiles("C"))
    with torch.inference_mode():
        one = model(lone.x, lone.edge_index, lone.edge_attr)
    assert one.shape == (1, 32) and torch.isfinite(one).all()


def test_gradient_free_forward_runs_under_cpu_bfloat16_autocast():
    torch.manual_seed(0)
    batch = GraphBatch.from_graphs([mol_to_graph(Chem.MolFromSmiles(s)) for s in ["CCO", "c1ccccc1N"]])
    model = GIN(num_layer=2, emb_dim=16, drop_ratio=0.0).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(batch.x, batch.edge_index, batch.edge_attr)  # the sparse CSR fast path has no bf16 kernel
    assert out.shape == (batch.x.shape[0], 16) and torch.isfinite(out.float()).all()
