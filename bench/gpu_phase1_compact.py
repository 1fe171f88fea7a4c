import sys,json,time,torch as T,torch.nn as N,torch.nn.functional as F
class Z(N.Module):
 def __init__(s,i,o,st):super().__init__();s.st,s.b,s.a=st,(o-i)//2,o-i-(o-i)//2
 def forward(s,x):return F.pad(x[:,:,::s.st,::s.st],(0,0,0,0,s.b,s.a))
class B(N.Module):
 def __init__(s,i,p,st,pr):
  super().__init__();s.c1=N.Conv2d(i,p,3,st,1,bias=False);s.b1=N.BatchNorm2d(p);s.c2=N.Conv2d(p,p,3,1,1,bias=False);s.b2=N.BatchNorm2d(p)
  s.sc=N.Sequential() if st==1 and i==p else (N.Sequential(N.Conv2d(i,p,1,st,bias=False),N.BatchNorm2d(p)) if pr else Z(i,p,st))
 def forward(s,x):return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x)))))+s.sc(x))
class R(N.Module):
 def __init__(s,w,bl,pr,c):
  super().__init__();s.c=N.Conv2d(c,w[0],3,1,1,bias=False);s.b=N.BatchNorm2d(w[0]);L=[];i=w[0]
  for k,(o,n) in enumerate(zip(w,bl)):
   for j in range(n):L.append(B(i,o,(1 if k==0 else 2) if j==0 else 1,pr));i=o
  s.L=N.Sequential(*L);s.fc=N.Linear(i,10)
 def f(s,x):return s.L(F.relu(s.b(s.c(x))))
 def forward(s,x):return s.fc(s.f(x).mean((2,3)))
m,c,z,bs=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])
net=(R([64,128,256,512],[2]*4,1,c) if m=='resnet18' else R([16,32,64],[3]*3,0,c)).cuda()
o=T.optim.SGD(net.parameters(),lr=.1,momentum=.9,weight_decay=2e-4)
x=T.randn(bs,c,z,z).cuda();y=T.randint(0,10,(bs,)).cuda();S=100;W=10
def run(step):
 for k in range(W+S):
  if k==W:T.cuda.synchronize();t=time.perf_counter()
  step()
 T.cuda.synchronize();return S*bs/(time.perf_counter()-t)
def tr():
 l=F.cross_entropy(net(x),y);o.zero_grad();l.backward();o.step()
def ex():
 with T.no_grad():
  f=net.f(x);T.softmax(net.fc(f.mean((2,3))),1);T.einsum('nk,nkhw->nhw',net.fc.weight[y],f)
net.train();a=run(tr);net.eval();b=run(ex)
print(json.dumps({"impl":"pytorch "+T.__version__,"device":T.cuda.get_device_name(),"model":m,"input":[c,z,z],"batch":bs,"phase1ImagesPerSecond":a,"extractImagesPerSecond":b}))
